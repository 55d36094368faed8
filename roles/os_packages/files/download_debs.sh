#!/bin/sh
# usage: download_debs.sh DEST PACKAGE...
# The packages and everything they depend on (Depends and Pre-Depends, every alternative, the
# providers of virtual packages; not Recommends, which the role does not install), downloaded
# into DEST as a flat apt repository with its index (apt-ftparchive). The closure does not
# assume anything installed, so a minimal host of the same release installs from it alone.
# Prints CHANGED when DEST changed. Debs of an earlier closure are removed.
set -eu
dest="$1"; shift
cd "$dest"
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "$@" | grep '^[a-zA-Z0-9]' | sort -u)
# 'URL' FILE SIZE SHA256:HASH, one line per package of the closure; asked in an empty folder,
# since apt leaves out the packages whose file is already in the current one.
empty=$(mktemp -d)
# shellcheck disable=SC2086
(cd "$empty" && apt-get download --print-uris $closure) >uris.tmp
rmdir "$empty"
awk '{print $2}' uris.tmp | sort >wanted.tmp
rm -f uris.tmp
changed=
missing=
while read -r file; do
  [ -f "$file" ] || missing="$missing ${file%%_*}"
done <wanted.tmp
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt-get download -q $missing >/dev/null
  changed=1
fi
for file in *.deb; do
  [ -e "$file" ] || continue
  if ! grep -qxF "$file" wanted.tmp; then rm -f "$file"; changed=1; fi
done
count=$(wc -l <wanted.tmp)
rm -f wanted.tmp
apt-ftparchive packages . >Packages.tmp 2>/dev/null
if ! cmp -s Packages.tmp Packages; then
  mv Packages.tmp Packages
  changed=1
else
  rm -f Packages.tmp
fi
chmod 0644 ./*.deb Packages
[ -z "$changed" ] || echo CHANGED
echo "$count packages"
