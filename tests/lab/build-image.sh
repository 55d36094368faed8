#!/usr/bin/env bash
# Build a systemd-capable Debian image for the lab without a container registry
# (none is reachable here): debootstrap a root filesystem and `docker import` it.
# The image carries a label with the hash of this recipe; it is rebuilt only when the
# recipe (this file, the suite or the mirror) changes.
#
# usage: build-image.sh [SUITE]      (SUITE: bookworm (default) or trixie)
set -euo pipefail

suite="${1:-bookworm}"
image="inferops-lab/debian:${suite}"
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

recipe_hash="$( { cat "$0"; echo "$suite $mirror $packages"; sha256sum "$ca_bundle"; } | sha256sum | cut -c1-16)"
current="$(docker image inspect --format '{{ index .Config.Labels "org.inferops.recipe" }}' "$image" 2>/dev/null || true)"
if [ "$current" = "$recipe_hash" ]; then
  echo "lab: image $image is up to date (recipe $recipe_hash)"
  exit 0
fi

command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }

rootfs="$(mktemp -d /var/tmp/inferops-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
echo "lab: debootstrap $suite from $mirror (about a minute)"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -n 30 "$rootfs.log" >&2; exit 1; }
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
echo "lab: built $image (recipe $recipe_hash)"
