#!/usr/bin/env python3
"""Benchmark model downloads through the lab's Hugging Face mirror (a benchmark, not a test).

Makes a synthetic repository (default 1 GB, 256 MB shards) on the mirror, then on a fresh lab
host downloads it (1) with the collection's model role, which prints progress lines while it
runs, and (2) with a plain `hf download` of the same repository into another directory. Prints
both times and MB/s.

usage: make bench-model   (or: LAB_DIR=.lab python tests/bench/model_bench.py [MEGABYTES])
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
HOST = "inferops-bench-model"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def main():
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    repo = f"inferops/synthetic-{megabytes}m"
    lab = REPO_DIR / "tests" / "lab"
    sh(str(lab / "hf-mirror.sh"), "synthetic", repo, str(megabytes))
    endpoint = sh(str(lab / "hf-mirror.sh"), "url").strip()
    subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)
    sh(str(lab / "start-container.sh"), HOST)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inv = Path(tmp)
            (inv / "hosts.yml").write_text(f"all:\n  hosts:\n    {HOST}:\n      ansible_connection: community.docker.docker\n")
            (inv / "group_vars").symlink_to(REPO_DIR / "inventories" / "lab" / "group_vars")
            base = ["ansible-playbook", "-i", str(inv), str(REPO_DIR / "playbooks" / "model.yml"),
                    "-e", f"model_repo={repo}", "-e", f"model_name=bench-{megabytes}m", "-e", "model_fetch_poll=3"]
            # Warm-up: OS packages and the fetcher's venv, with the tiny model (not timed).
            subprocess.run(base[:4], check=True, capture_output=True, cwd=REPO_DIR)
            start = time.monotonic()
            proc = subprocess.run(base, check=True, capture_output=True, text=True, cwd=REPO_DIR)
            role_s = time.monotonic() - start
            fetch_s = float(re.search(r"seconds: ([0-9.]+)", subprocess.run(
                base + ["-v", "-e", "model_name=bench-{}m-rerun".format(megabytes)], check=True,
                capture_output=True, text=True, cwd=REPO_DIR).stdout).group(1))
            progress = [line for line in proc.stdout.splitlines() if ": downloading " in line]
            start = time.monotonic()
            sh("docker", "exec", "-e", f"HF_ENDPOINT={endpoint}", "-e", "HF_HUB_DISABLE_XET=1", HOST,
               "/opt/inferops/model-tools/venv/bin/hf", "download", repo, "--local-dir", "/srv/models/plain-hf")
            plain_s = time.monotonic() - start
    finally:
        subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)
    size_mb = megabytes * 1.048576
    print(f"\nmodel download of {repo} ({size_mb:.0f} MB) through the lab mirror (olah) at {endpoint}")
    print(f"  model role (fetch, verify, record), whole play: {role_s:6.1f} s")
    print(f"  model role, fetcher only (second copy):         {fetch_s:6.1f} s  {size_mb / fetch_s:6.1f} MB/s")
    print(f"  plain `hf download` of the same repository:     {plain_s:6.1f} s  {size_mb / plain_s:6.1f} MB/s")
    print(f"  progress lines printed during the role's download: {len(progress)}")
    for line in progress[:3] + (["  ..."] if len(progress) > 4 else []) + progress[-1:]:
        print("   ", line.strip())


if __name__ == "__main__":
    main()
