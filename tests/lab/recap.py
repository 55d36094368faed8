"""Run ansible-playbook from a verifier and read its PLAY RECAP (shared by scenarios)."""
import os
import re
import subprocess

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run_playbook(playbook, *args):
    """Run a playbook against the Molecule inventory; return (output, {host: counts})."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    cmd = ["ansible-playbook", "-i", inventory, playbook, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200)
    out = proc.stdout + proc.stderr
    recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
             for m in RECAP.findall(out)}
    assert proc.returncode == 0, out[-4000:]
    return out, recap
