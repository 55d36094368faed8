#!/usr/bin/env bash
# ansible-test sanity for this checkout, with nothing reached but PyPI.
#
# - ansible-test needs the collection at .../ansible_collections/inferops/inference: the files
#   git would ship (tracked and untracked, not ignored) are copied to
#   .lab/sanity/ansible_collections/inferops/inference, a git repository of its own so that
#   ansible-test lists them with git as it does in a clone (a copy inside this checkout's
#   ignored .lab/ would otherwise list nothing).
# - ansible-test gives each sanity test its own virtual environment with the requirements it
#   pins, and bootstraps pip into each with a script from a host that is unreachable here. It
#   runs with HOME=.lab/sanity-home, so its environments and caches stay under .lab/, and its
#   bootstrap script is tests/sanity/get-pip.py (the same pip release, from PyPI, via uv;
#   the test requirements are then installed by that pip, as ansible-test does everywhere).
# - shellcheck, which ansible-test runs from PATH, comes from tests/sanity/requirements.txt.
#
# Extra arguments go to ansible-test sanity (e.g. --test pylint).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lab="${LAB_DIR:-$root/.lab}"
venv="$(cd "${VENV_DIR:-$root/.venv}" && pwd)"  # the dev venv: ansible-core, ansible-test, uv
python="$venv/bin/python"
uv="$venv/bin/uv"
ansible_test="$(dirname "$python")/ansible-test"
copy="$lab/sanity/ansible_collections/inferops/inference"
home="$lab/sanity-home"
tools="$lab/sanity-tools"

# The user's uv cache, before HOME moves.
UV_CACHE_DIR="${UV_CACHE_DIR:-$("$uv" cache dir)}"
export UV_CACHE_DIR

if ! cmp -s "$root/tests/sanity/requirements.txt" "$tools/requirements.txt" 2>/dev/null; then
  rm -rf "$tools"
  "$uv" venv -q --python "$python" "$tools"
  "$uv" pip install -q --python "$tools/bin/python" -r "$root/tests/sanity/requirements.txt"
  cp "$root/tests/sanity/requirements.txt" "$tools/requirements.txt"
fi

version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# The pip release ansible-test pins for this Python (it names the bootstrap script after it).
pip_version="$("$python" - "$version" <<'PY'
import sys
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"])
PY
)"
mkdir -p "$home/.ansible/test/cache"
cp "$root/tests/sanity/get-pip.py" "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
"$python" - "$uv" > "$home/.ansible/test/cache/get-pip-uv.json" <<'PY'
import json
import os
import sys
names = ("SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
env = {k: v for k, v in os.environ.items() if k in names or k.startswith("UV_")}
print(json.dumps({"uv": sys.argv[1], "env": env}))
PY

rm -rf "$lab/sanity"
mkdir -p "$copy"
(
  cd "$root"
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
    if [ -e "$path" ] || [ -L "$path" ]; then printf '%s\0' "$path"; fi
  done | tar --null --files-from=- -cf -
) | tar -xf - -C "$copy"
git -C "$copy" init -q

cd "$copy"
log="$lab/sanity/ansible-test.log"
set +e
HOME="$home" PATH="$tools/bin:$(dirname "$python"):$PATH" \
  "$python" "$ansible_test" sanity --python "$version" --color no --junit "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if ! "$python" "$root/tests/sanity/summary.py" "$copy/tests/output/junit" "$log" && [ "$status" -eq 0 ]; then
  status=1
fi
exit "$status"
