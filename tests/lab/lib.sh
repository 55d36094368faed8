# shellcheck shell=bash
# Sourced by the lab's mirror scripts: the checkout, the lab's folder, the Docker bridge's address.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
lab="${LAB_DIR:-$repo_root/.lab}"
bridge_ip() { ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | grep . || echo 127.0.0.1; }
# A lab server whose PID is in $lab/NAME.pid: stop it, or ask whether it runs.
server_stop() { if [ -f "$lab/$1.pid" ]; then kill "$(cat "$lab/$1.pid")" 2>/dev/null || true; fi; rm -f "$lab/$1.pid"; }
server_running() { [ -f "$lab/$1.pid" ] && kill -0 "$(cat "$lab/$1.pid")" 2>/dev/null; }
# A venv at VENV with the pinned PACKAGES, made unless its PROGRAM is there already.
tool_venv() {  # VENV PROGRAM PACKAGE...
  local venv="$1" program="$2"; shift 2
  if [ ! -x "$venv/bin/$program" ]; then
    python3 -m venv "$venv"
    "$repo_root/.venv/bin/uv" pip install -q --python "$venv/bin/python" "$@"
  fi
}
