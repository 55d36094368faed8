#!/usr/bin/env bash
# The real parsers the unit tests check rendered files with, unpacked under .lab/parsers
# (nothing is installed or started on the machine): nginx from Debian's archive.
# systemd-analyze and apt-config come with the Debian host itself.
set -euo pipefail
lab="${LAB_DIR:?LAB_DIR must be set (the Makefile exports it)}"
root="$lab/parsers"
if [ -x "$root/usr/sbin/nginx" ]; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -q nginx nginx-common >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download -q nginx nginx-common; }
mkdir -p "$root"
for deb in ./*.deb; do
  dpkg -x "$deb" "$root"
done
"$root/usr/sbin/nginx" -v
