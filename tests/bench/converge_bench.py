#!/usr/bin/env python3
"""Benchmark playbooks/cpu_node.yml on a fresh lab host (a benchmark, not a test).

Prints: the fresh converge time to a healthy, verified endpoint; its split by phase
(OS packages, venv + wheels, model, service start + verification); the re-run time and its
changed count; and the re-run as a share of the fresh converge (target: under 10%, changed=0).

usage: make bench            (or: LAB_DIR=.lab python tests/bench/converge_bench.py)
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "inferops-bench"
# ansible.posix.profile_roles names roles without their collection (ansible-core 2.19).
PHASES = {
    "os_packages": "OS packages",
    "vllm_install": "venv + torch + vLLM wheels",
    "model": "model staging",
    "vllm_service": "service start + health gate",
}
ROLE_LINE = re.compile(r"^(\S+)\s+-+\s+([0-9.]+)s$", re.M)
RECAP = re.compile(rf"^{HOST}\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def converge(inventory):
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_roles", ANSIBLE_FORCE_COLOR="0")
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(REPO / "playbooks" / "cpu_node.yml")],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(proc.stdout[-5000:] + proc.stderr[-2000:])
    recap = RECAP.search(proc.stdout)
    roles = {name.split(".")[-1]: float(sec) for name, sec in ROLE_LINE.findall(proc.stdout)}
    return wall, int(recap.group(2)), roles


def main():
    subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)
    subprocess.run([str(REPO / "tests" / "lab" / "start-container.sh"), HOST], check=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = Path(tmp)
            (inventory / "hosts.yml").write_text(
                f"all:\n  children:\n    cpu_nodes:\n      hosts:\n        {HOST}:\n"
                "          ansible_connection: community.docker.docker\n")
            (inventory / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")
            fresh, fresh_changed, roles = converge(inventory)
            rerun, rerun_changed, _ = converge(inventory)
    finally:
        subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)

    print(f"\ncpu_node converge on a fresh lab host ({os.cpu_count()} CPUs)")
    print(f"  fresh converge to a verified endpoint: {fresh:7.1f} s   (changed={fresh_changed})")
    for role, label in PHASES.items():
        print(f"    {label:<32} {roles.get(role, 0.0):7.1f} s")
    other = fresh - sum(roles.get(r, 0.0) for r in PHASES)
    print(f"    {'facts, connection, other':<32} {other:7.1f} s")
    print(f"  re-run:                                {rerun:7.1f} s   (changed={rerun_changed})")
    print(f"  re-run / fresh:                        {100 * rerun / fresh:7.1f} %   (target < 10 %, changed=0)")


if __name__ == "__main__":
    main()
