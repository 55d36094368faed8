"""Who downloaded what from the lab's mirrors, read from their access logs: the proof that a
fleet fetched each wheel and model file from outside once (tests/bench/converge_bench.py, the
cluster scenario's verifier).

usage: python3 mirror_logs.py offsets   (JSON: each log's current size, to read what comes after)
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _lab_dir():
    return Path(os.environ.get("LAB_DIR", REPO / ".lab"))


# Each mirror's log, and a pattern for a request in it: client address, path, status.
MIRRORS = {
    "PyPI mirror": (lambda: _lab_dir() / "pypi-mirror" / "access.log",  # tests/lab/pypi-mirror.sh
                    re.compile(r'^(?P<ip>\S+) "GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')),
    "torch index": (lambda: REPO / ".lab" / "torch-index.log",  # tests/lab/torch-index.sh
                    re.compile(r'^(?P<ip>\S+) - - \[[^]]*\] "GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')),
    "HF mirror": (lambda: _lab_dir() / "hf-mirror" / "olah.log",  # tests/lab/hf-mirror.sh
                  re.compile(r'INFO:\s+(?P<ip>[\d.]+):\d+ - "GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')),
}
# Whole files: wheels, and model files (olah's resolve/ URLs); not index pages, nor the byte
# ranges uv reads of a wheel's metadata while it resolves (206).
DOWNLOAD = re.compile(r"\.whl$|/resolve/")


def offsets():
    """{mirror: bytes in its log now}."""
    return {name: (path().stat().st_size if path().exists() else 0) for name, (path, _pattern) in MIRRORS.items()}


def downloads_since(since, addresses):
    """{mirror: {file name: [client name, ...]}}: the whole-file downloads by the clients of
    `addresses` ({ip: name}) logged after `since` (offsets())."""
    found = {}
    for name, (path, pattern) in MIRRORS.items():
        if not path().exists():
            continue
        with open(path(), "rb") as log:
            log.seek(since.get(name, 0))
            for line in log.read().decode(errors="replace").splitlines():
                m = pattern.search(line)
                if m and m["ip"] in addresses and m["status"] == "200" and DOWNLOAD.search(m["path"]):
                    found.setdefault(name, {}).setdefault(m["path"].rsplit("/", 1)[-1], []).append(addresses[m["ip"]])
    return found


def addresses_of(names):
    """{ip: container name} over every network of the lab containers `names`."""
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    out = subprocess.run(["docker", "inspect", "-f", fmt, *names], capture_output=True, text=True, check=True).stdout
    return {ip: name for name, line in zip(names, out.splitlines()) for ip in line.split()}


if __name__ == "__main__":
    if sys.argv[1:] != ["offsets"]:
        sys.exit(__doc__)
    print(json.dumps(offsets()))
