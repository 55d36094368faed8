"""Helpers shared by the scenarios' verifiers: run ansible-playbook and read its PLAY RECAP,
reach any host of the scenario."""
import os
import re
import subprocess

import testinfra

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run_playbook(playbook, *args, expect_ok=True):
    """Run a playbook against the Molecule inventory; return (output, {host: counts}).
    expect_ok=False: the run must fail (bad input refused)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    cmd = ["ansible-playbook", "-i", inventory, playbook, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200)
    out = proc.stdout + proc.stderr
    recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
             for m in RECAP.findall(out)}
    assert (proc.returncode == 0) is expect_ok, out[-4000:]
    return out, recap


def lab_host(name):
    """A testinfra host for any instance of the scenario, not only the one a test runs on
    (testinfra.get_host alone does not know Molecule's inventory)."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")
