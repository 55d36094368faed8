#!/usr/bin/env bash
# shellcheck disable=SC2154  # lab and repo_root are set by tests/lab/lib.sh
# The lab's Hugging Face mirror: olah (PyPI), offline, serving git repositories made here,
# the same protocol as huggingface.co and hf-mirror.com (HF_ENDPOINT). huggingface.co itself
# is unreachable from the lab machines.
#
# usage: hf-mirror.sh start|stop|url|repo ORG/NAME SRC_DIR|synthetic ORG/NAME MEGABYTES
set -euo pipefail
# lab, repo_root, bridge_ip and the server helpers.
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
root="$lab/hf-mirror"
port="${LAB_HF_MIRROR_PORT:-8090}"
venv="$lab/mirror-venv"
url() { echo "http://$(bridge_ip):$port"; }

# A model repository as the mirror serves it: a git repo on branch main. Fixed dates make
# the commit id depend on the content only, so rebuilding the lab keeps revisions stable.
make_repo() {  # ORG/NAME SRC_DIR
  local dest="$root/mirrors/models/$1"
  rm -rf "$dest"; mkdir -p "$dest"
  cp -r "$2"/. "$dest"/
  git -C "$dest" init -q -b main
  git -C "$dest" add -A
  GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
    git -C "$dest" -c user.name=inferops-lab -c user.email=lab@inferops.invalid commit -qm "model $1"
  echo "lab: mirror repo $1 at commit $(git -C "$dest" rev-parse --short HEAD)"
}
have_repo() { git -C "$root/mirrors/models/$1" rev-parse -q --verify main >/dev/null 2>&1; }

case "${1:-start}" in
  url) url ;;
  repo) make_repo "$2" "$3" ;;
  synthetic)  # ORG/NAME MEGABYTES: config.json plus seeded pseudo-random shards of up to 256 MB
    if have_repo "$2"; then echo "lab: mirror repo $2 exists"; exit 0; fi
    src="$(mktemp -d)"; trap 'rm -rf "$src"' EXIT
    python3 - "$src" "$3" <<'PY'
import json, random, sys
src, left, n = sys.argv[1], int(sys.argv[2]), 1
json.dump({"architectures": ["Synthetic"], "model_type": "synthetic"}, open(f"{src}/config.json", "w"))
rng = random.Random(left)
while left > 0:
    size = min(left, 256)
    with open(f"{src}/model-{n:05d}.safetensors", "wb") as out:
        for _ in range(size):
            out.write(rng.randbytes(1024 * 1024))
    left, n = left - size, n + 1
PY
    make_repo "$2" "$src" ;;
  stop) server_stop hf-mirror ;;
  start)
    tool_venv "$venv" olah-cli olah==0.5.4 huggingface_hub==2.4.0
    mkdir -p "$root/mirrors/models" "$root/repos"
    if server_running hf-mirror; then
      echo "lab: HF mirror already at $(url)"; exit 0
    fi
    cat >"$root/olah.toml" <<TOML
[basic]
host = "$(bridge_ip)"
port = $port
repos-path = "$root/repos"
hf-scheme = "https"
hf-netloc = "huggingface.co"
hf-lfs-netloc = "cdn-lfs.huggingface.co"
mirror-scheme = "http"
mirror-netloc = "$(bridge_ip):$port"
mirror-lfs-netloc = "$(bridge_ip):$port"
mirrors-path = ["$root/mirrors"]

[accessibility]
offline = true
TOML
    # The braces keep `&` on olah itself: `cd && nohup … &` would background a subshell and
    # record that subshell's PID, which `stop` would then kill while olah kept the port.
    (cd "$root" && { nohup "$venv/bin/olah-cli" -c olah.toml >"$root/olah.log" 2>&1 & echo $! >"$lab/hf-mirror.pid"; })
    for _ in $(seq 1 40); do
      grep -q "Uvicorn running" "$root/olah.log" 2>/dev/null && { echo "lab: HF mirror (olah) at $(url)"; exit 0; }
      sleep 0.5
    done
    echo "lab: olah did not start" >&2; tail -20 "$root/olah.log" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop|url|repo ORG/NAME DIR|synthetic ORG/NAME MB" >&2; exit 2 ;;
esac
