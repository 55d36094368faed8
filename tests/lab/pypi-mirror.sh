#!/usr/bin/env bash
# shellcheck disable=SC2154  # lab and repo_root are set by tests/lab/lib.sh
# The lab's PyPI mirror: proxpi (PyPI), a caching proxy of https://pypi.org/simple/, on the
# Docker bridge, as a site's own mirror (devpi, Artifactory, a proxpi) would be. Every lab host
# installs its wheels through it (inventories/lab), so that
# - each file crosses the internet once per lab, not once per host and scenario: the cache in
#   .lab/pypi-mirror/cache outlives runs, a fixture shared by every scenario;
# - its access log (.lab/pypi-mirror/access.log: client, request, status, bytes) shows who
#   downloaded what, which the fleet benchmark reads to prove one download per fleet.
#
# usage: pypi-mirror.sh start|stop|url|log
set -euo pipefail
# lab, repo_root, bridge_ip and the server helpers.
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
root="$lab/pypi-mirror"
port="${LAB_PYPI_MIRROR_PORT:-8902}"
venv="$lab/pypi-mirror-venv"
url() { echo "http://$(bridge_ip):$port/index/"; }

case "${1:-start}" in
  url) url ;;
  log) echo "$root/access.log" ;;
  stop) server_stop pypi-mirror ;;
  start)
    tool_venv "$venv" gunicorn proxpi==1.3.1 gunicorn==23.0.0
    mkdir -p "$root/cache"
    if server_running pypi-mirror; then
      echo "lab: PyPI mirror already at $(url)"; exit 0
    fi
    # One worker: proxpi's file cache lives in its process, and a second worker would download
    # the same file again. Threads serve the hosts of a fleet at once. A client waits for a file
    # being downloaded (PROXPI_DOWNLOAD_TIMEOUT) instead of being sent to files.pythonhosted.org.
    (cd "$root" && {
      PROXPI_CACHE_DIR="$root/cache" PROXPI_CACHE_SIZE=$((20 * 1024 ** 3)) PROXPI_DOWNLOAD_TIMEOUT=1800 \
      PROXPI_INDEX_TTL=86400 REQUESTS_CA_BUNDLE="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" \
        nohup "$venv/bin/gunicorn" --workers 1 --threads 32 --timeout 1800 \
          --bind "$(bridge_ip):$port" --access-logfile "$root/access.log" \
          --access-logformat '%(h)s "%(r)s" %(s)s %(B)s' proxpi.server:app >"$root/server.log" 2>&1 &
      echo $! >"$lab/pypi-mirror.pid"; })
    for _ in $(seq 1 60); do
      curl -fs -o /dev/null "$(url)pip/" && { echo "lab: PyPI mirror (proxpi) at $(url)"; exit 0; }
      sleep 0.5
    done
    echo "lab: the PyPI mirror did not start" >&2; tail -20 "$root/server.log" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop|url|log" >&2; exit 2 ;;
esac
