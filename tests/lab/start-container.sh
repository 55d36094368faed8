#!/usr/bin/env bash
# Start (or reuse) a lab host: a systemd container run the way LAB.md found to work here
# (no --privileged: SYS_ADMIN + host cgroup namespace), and wait until systemd is up.
# usage: start-container.sh NAME [extra docker run args...]
set -euo pipefail
name="$1"; shift
image="${LAB_IMAGE:-inferops-lab/debian:bookworm}"
if ! docker inspect "$name" >/dev/null 2>&1; then
  docker run -d --name "$name" --hostname "$name" --label inferops-lab \
    --cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp:exec --shm-size 2g \
    "$@" "$image" >/dev/null
fi
docker start "$name" >/dev/null
for _ in $(seq 1 60); do
  case "$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)" in
    running|degraded) exit 0 ;;
  esac
  sleep 1
done
echo "lab: systemd in $name did not come up" >&2
exit 1
