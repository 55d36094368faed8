#!/usr/bin/env bash
# The Galaxy path, as a user of the collection takes it: build the tarball, install it into
# an empty collections path, then run a collection playbook by its FQCN against a lab
# container, from a directory that is not this checkout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
name="inferops-galaxy-$$"
work="$(mktemp -d /tmp/inferops-galaxy.XXXXXX)"
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

cd "$repo"
ansible-galaxy collection build --force --output-path "$work/dist" .
tarball="$(ls "$work"/dist/inferops-inference-*.tar.gz)"
echo "galaxy: built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
# Nothing of the test lab, venvs or caches may leak into the artifact.
if tar -tzf "$tarball" | grep -E '^(\.venv|\.lab|molecule|tests)/'; then
  echo "galaxy: the tarball contains files listed in build_ignore" >&2; exit 1
fi

# From here on, only the installed tarball may provide inferops.inference (plus the
# collections bundled with the ansible package, for the docker connection).
cd "$work"
printf "[defaults]\ninterpreter_python = auto_silent\n" >ansible.cfg
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections"
ansible-galaxy collection install --offline -p "$work/collections" "$tarball"

"$repo/tests/lab/start-container.sh" "$name"

cat >"$work/inventory.yml" <<INV
all:
  hosts:
    $name:
      ansible_connection: community.docker.docker
INV
ansible-playbook -i inventory.yml inferops.inference.os_packages | tee "$work/run.log"
grep -qE "$name +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0" "$work/run.log"
docker exec "$name" g++ --version | head -n1
echo "galaxy: installed collection ran inferops.inference.os_packages by FQCN"
