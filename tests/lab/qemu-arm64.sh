#!/usr/bin/env bash
# Let this x86_64 machine run arm64 binaries (containers, chroots) through qemu-user: Debian's
# qemu-user-static registers qemu-aarch64 with binfmt_misc's F flag, so the interpreter is
# opened at registration and needs no copy inside containers.
set -euo pipefail
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  exit 0
fi
if ! command -v qemu-aarch64-static >/dev/null 2>&1 || ! command -v update-binfmts >/dev/null 2>&1; then
  echo "lab: installing qemu-user-static and binfmt-support from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends qemu-user-static binfmt-support
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "lab: qemu-aarch64 is not registered" >&2; exit 1; }
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
  || { echo "lab: qemu-aarch64 is registered without the F flag; containers cannot use it" >&2; exit 1; }
echo "lab: arm64 binaries run under $(qemu-aarch64-static --version | head -n1)"
