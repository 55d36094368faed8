#!/usr/bin/env bash
# Make sure a Docker engine answers. CI machines and fresh dev machines have only the
# Docker CLI, so install Debian's engine and start it ourselves (see README "Test lab").
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "lab: installing the Docker engine (docker.io) and debootstrap from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends docker.io debootstrap
fi

echo "lab: starting dockerd"
mkdir -p /var/log
nohup dockerd >/var/log/inferops-lab-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "lab: dockerd is up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "lab: dockerd did not answer within 60 s; last log lines:" >&2
tail -n 30 /var/log/inferops-lab-dockerd.log >&2
exit 1
