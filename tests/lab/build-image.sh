#!/usr/bin/env bash
# Build a systemd-capable Debian image for the lab without a container registry
# (none is reachable here): debootstrap a root filesystem and `docker import` it.
# The image carries a label with the hash of this recipe; it is rebuilt only when the
# recipe (this file, the suite or the mirror) changes.
#
# usage: build-image.sh [SUITE] [ARCH]   (SUITE: bookworm (default), bullseye or trixie;
#                                          ARCH: the machine's own (default) or arm64)
# arm64 runs under qemu-user (tests/lab/qemu-arm64.sh registers it): the second debootstrap
# stage alone takes about 10 minutes, so the image is cached like the others.
set -euo pipefail

suite="${1:-bookworm}"
arch="${2:-}"
image="inferops-lab/debian:${suite}${arch:+-$arch}"
here="$(cd "$(dirname "$0")" && pwd)"

# The Debian mirror this machine already uses, unless the caller names one.
mirror="${LAB_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $2}' | head -n1 || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi
packages="systemd,systemd-sysv,python3,python3-apt,ca-certificates,sudo,iproute2,procps"
ca_bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"

recipe_hash="$( { cat "$0"; echo "$suite $arch $mirror $packages"; sha256sum "$ca_bundle"; } | sha256sum | cut -c1-16)"
current="$(docker image inspect --format '{{ index .Config.Labels "org.inferops.recipe" }}' "$image" 2>/dev/null || true)"
if [ "$current" = "$recipe_hash" ]; then
  echo "lab: image $image is up to date (recipe $recipe_hash)"
  exit 0
fi

command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }

rootfs="$(mktemp -d /var/tmp/inferops-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
if [ -z "$arch" ]; then
  echo "lab: debootstrap $suite from $mirror (about a minute)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; exit 1; }
else
  "$here/qemu-arm64.sh"
  # The libraries vLLM's CPU backend loads on aarch64 (NUMA, OpenMP, tcmalloc).
  packages="$packages,libnuma1,numactl,libgomp1"
  echo "lab: debootstrap $suite for $arch from $mirror (second stage under qemu: about 10 minutes)"
  { debootstrap --foreign --arch="$arch" --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
      && chroot "$rootfs" /debootstrap/debootstrap --second-stage; } >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; exit 1; }
  # systemd units that load credentials fail under qemu-user ("Failed to set up
  # credentials"); none of the lab's units need any.
  mkdir -p "$rootfs/etc/systemd/system/service.d"
  printf '[Service]\nLoadCredential=\n' >"$rootfs/etc/systemd/system/service.d/inferops-lab-qemu.conf"
fi
rm -f "$rootfs.log"

# HTTPS leaves this machine through an intercepting proxy: containers must trust its CA.
cp "$ca_bundle" "$rootfs/usr/local/share/ca-certificates/lab-host-bundle.crt"
chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
# Units that make no sense or hang in a container.
for unit in systemd-remount-fs.service getty.target console-getty.service systemd-firstboot.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo "inferops-lab" >"$rootfs/etc/hostname"
apt_clean="$rootfs/var/cache/apt/archives"
rm -f "$apt_clean"/*.deb

tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --change "LABEL org.inferops.recipe=$recipe_hash" \
  - "$image" >/dev/null
if [ -n "$arch" ]; then
  # Docker 20.10 ignores `docker import --platform` and labels the image with the machine's
  # architecture; Ansible facts and pip would not care, but Docker's own checks do.
  "$here/set-image-arch.py" "$image" "$arch"
fi
echo "lab: built $image (recipe $recipe_hash)"
