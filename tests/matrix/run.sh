#!/usr/bin/env bash
# The unit stage (`make unit`) under each ansible-core of its matrix: the unit tests (tests/unit)
# and the smoke play (tests/smoke/smoke.yml), under
#   - the dev venv's ansible-core (requirements-dev.txt), the bottom of requires_ansible, and
#   - the newest release (tests/matrix/newest-ansible-core.txt), the top, in .lab/matrix/venv:
#     made with uv (its cache is the dev venv's) on the newest CPython found here, as that
#     release may need a newer one than the dev venv's (NEWEST_PYTHON=/path/to/python chooses).
# The two legs run side by side (one per core); the newest one's output follows the other's.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lab="${LAB_DIR:-$root/.lab}"
dev="$(cd "${VENV_DIR:-$root/.venv}" && pwd)"  # the dev venv, the bottom of the matrix; its uv
uv="$dev/bin/uv"
requirements="$root/tests/matrix/newest-ansible-core.txt"
work="$lab/matrix"
venv="$work/venv"
cd "$root"

candidates() {  # candidates MINOR: interpreters of Python 3.MINOR, best first
  command -v "python3.$1" || true
  local pyenv_root
  pyenv_root="$(pyenv root 2>/dev/null || true)"
  if [ -n "$pyenv_root" ]; then
    printf '%s\n' "$pyenv_root"/versions/3."$1".*/bin/python3."$1" | sort -V -r
  fi
  "$uv" python find --no-python-downloads "3.$1" 2>/dev/null || true
}

newest_python() {
  if [ -n "${NEWEST_PYTHON:-}" ]; then echo "$NEWEST_PYTHON"; return; fi
  local minor candidate
  for minor in 15 14 13 12; do
    while IFS= read -r candidate; do
      # pyenv's shims exist for every version but run only the selected ones.
      if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
        echo "$candidate"
        return
      fi
    done < <(candidates "$minor")
  done
  echo "no CPython >= 3.12 found for the newest ansible-core: install one or set NEWEST_PYTHON" >&2
  return 1
}

mkdir -p "$work"
if ! cmp -s "$requirements" "$venv/requirements.txt" || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  python="$(newest_python)"
  rm -rf "$venv"
  "$uv" venv -q --python "$python" "$venv"
  "$uv" pip install -q --python "$venv/bin/python" -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi

leg() {  # leg BIN_DIR [pytest options]: the unit tests and the smoke play with that venv first on PATH
  local bin="$1"
  shift
  PATH="$bin:$PATH" bash -c '
    set -uo pipefail
    echo "== ansible-core $(python -c "import ansible.release as r; print(r.__version__)"), Python $(python -c "import platform; print(platform.python_version())")"
    pytest -q "$@" tests/unit
    unit=$?
    ansible-playbook -i tests/smoke/inventory.yml tests/smoke/smoke.yml
    smoke=$?
    [ "$unit" -eq 0 ] && [ "$smoke" -eq 0 ]' leg "$@"
}

version() { "$1/python" -c 'import ansible.release as r; print(r.__version__)'; }
log="$work/newest.log"
leg "$venv/bin" -p no:cacheprovider --basetemp "$work/pytest-tmp" > "$log" 2>&1 &
newest_pid=$!
pinned=passed
leg "$dev/bin" || pinned=failed
newest=passed
wait "$newest_pid" || newest=failed
cat "$log"
echo "unit matrix: ansible-core $(version "$dev/bin") $pinned, ansible-core $(version "$venv/bin") $newest"
[ "$pinned" = passed ] && [ "$newest" = passed ]
