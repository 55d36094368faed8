#!/usr/bin/env python
"""Benchmark playbooks/cpu_node.yml against the runbook typed by hand (a benchmark, not a test).

On fresh lab hosts of the same image, one after another:
  (a) tests/bench/runbook_cpu.sh: the runbook's CPU steps as one shell script;
  (b) cpu_node.yml on a fresh host, split by role;
  (c) cpu_node.yml again on that host (changed must be 0);
  (d) cpu_node.yml on FLEET fresh hosts at once (default 4), the first the fleet seed of the
      wheels and the model (vllm_install_fleet_seed, model_fleet_seed); from the lab mirrors'
      logs, how often each wheel and model file was downloaded, and by which host.
For (a), (b) and (d) also the CPU time the hosts (their cgroups) and the controller used: no run
can take less wall time than that over the machine's cores, which bounds fleetN/fleet1 from below
and shows how much more work than the hand script the play does for the same result.
Ends with one line:
  converge ratios: fresh/hand=<b/a> rerun/fresh=<c/b> fleet4/fleet1=<d/b>
(targets of issue 18: fresh/hand <= 0.90, rerun/fresh <= 0.10 with changed=0, fleet4/fleet1 <= 1.5).

--quick HOST: one re-run of an already converged host of the current Molecule inventory (the
cpu_node scenario runs it), printing the same figures for what it measured: make test checks
that the benchmark still runs and prints, not its values.

usage: make bench   (or: LAB_DIR=.lab python tests/bench/converge_bench.py [--fleet N] [--quick HOST])
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab"
sys.path.insert(0, str(LAB))
import mirror_logs  # noqa: E402
PHASES = {
    "os_packages": "OS packages",
    "vllm_install": "venv + torch + vLLM wheels",
    "model": "model staging",
    "vllm_service": "unit, start + health gate",
}


def role_seconds(report):
    """Seconds per role from the ansible.posix.json callback's report: the wall time of each
    task (start to end over all hosts), summed per role; the checks before any change (the
    first play, playbooks/_validate.yml) and tasks outside roles count as other."""
    from datetime import datetime

    def stamp(text):
        return datetime.fromisoformat(text.rstrip("Z")).timestamp()

    totals = {}
    for number, play in enumerate(report.get("plays", [])):
        caller = "other"
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            if not duration.get("end"):
                continue
            name = task["task"]["name"]
            role = name.split(" : ", 1)[0].split(".")[-1] if " : " in name and number > 0 else "other"
            # The internal role's steps (health gate, fleet server) count for the role that called
            # them, and so do the include_role tasks that call them (named without a role).
            if role == "inferops" or (number > 0 and " : " not in name):
                role = caller
            caller = role
            totals[role] = totals.get(role, 0.0) + stamp(duration["end"]) - stamp(duration["start"])
    return totals


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cgroup_cpu_seconds(container_id, root="/sys/fs/cgroup"):
    """CPU seconds a container has used, from its cgroup (v1 cpuacct, or v2 under Docker's
    cgroupfs or systemd driver); None where none of them is found."""
    v1 = Path(root, "cpuacct", "docker", container_id, "cpuacct.usage")
    if v1.is_file():
        return int(v1.read_text()) / 1e9
    for v2 in (Path(root, "docker", container_id, "cpu.stat"),
               Path(root, "system.slice", f"docker-{container_id}.scope", "cpu.stat")):
        if v2.is_file():
            fields = dict(line.split() for line in v2.read_text().splitlines() if line.strip())
            return int(fields["usage_usec"]) / 1e6
    return None


def hosts_cpu(names):
    """CPU seconds the lab hosts have used so far, all together (None if unknown)."""
    ids = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", *names], capture_output=True, text=True,
                         check=False).stdout.split()
    found = [cgroup_cpu_seconds(cid) for cid in ids]
    return sum(found) if found and None not in found else None


def report_cpu(label, hosts, controller, wall, cpus=os.cpu_count()):
    """The CPU a run used: on this machine no run of it can take less wall time than CPU / cores."""
    if hosts is None:
        print(f"    CPU time: controller {controller:.1f} s (the hosts' cgroups are not readable here)")
        return None
    total = hosts + controller
    print(f"    CPU time: hosts {hosts:.1f} s + controller {controller:.1f} s = {total:.1f} s; "
          f"on {cpus} CPUs at least {total / cpus:.1f} s of wall time ({label}: {wall:.1f} s)")
    return total


def converge(inventory, limit=None):
    """(wall seconds, changed over all hosts, per-role seconds) of one cpu_node.yml run."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    cmd = ["ansible-playbook", "-i", str(inventory), str(REPO / "playbooks" / "cpu_node.yml")]
    cmd += ["--limit", limit, "-e", "inferops_target=all"] if limit else []
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        sys.exit(f"cpu_node.yml printed no report (rc {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    if proc.returncode != 0:
        failed = {h: s for h, s in report.get("stats", {}).items() if s.get("failures") or s.get("unreachable")}
        sys.exit(f"cpu_node.yml failed (rc {proc.returncode}): {failed}\n{proc.stderr[-2000:]}")
    changed = sum(s.get("changed", 0) for s in report.get("stats", {}).values())
    return wall, changed, role_seconds(report)


def fresh_hosts(names):
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    for name in names:
        subprocess.run([str(LAB / "start-container.sh"), name], check=True)


def remove(names):
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def inventory_for(tmp, names):
    """One host: as the lab inventory. More: a fleet, whose first host downloads the wheels and
    the model once and serves them to the others (vllm_install and model fleet seeds)."""
    hosts = "".join(f"        {n}:\n          ansible_connection: community.docker.docker\n" for n in names)
    seeds = (f"      vars:\n        vllm_install_fleet_seed: {names[0]}\n        model_fleet_seed: {names[0]}\n"
             if len(names) > 1 else "")
    inv = Path(tmp) / "-".join(names[:1] + [str(len(names))])
    inv.mkdir()
    (inv / "hosts.yml").write_text(f"all:\n  children:\n    cpu_nodes:\n{seeds}      hosts:\n{hosts}")
    (inv / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")
    return inv


def report_downloads(found, seed):
    """One line per mirror: files, and how often each was downloaded (and by whom)."""
    ok = True
    for name in mirror_logs.MIRRORS:
        files = found.get(name, {})
        again = {f: c for f, c in files.items() if len(c) != 1}
        peers = {f: c for f, c in files.items() if set(c) != {seed}}
        ok = ok and bool(files) and not again and not peers
        print(f"    {name}: {len(files)} files downloaded by the fleet, {len(again)} more than once, "
              f"{len(peers)} by a host other than the seed")
        for f, clients in sorted({**again, **peers}.items())[:10]:
            print(f"      {f}: {', '.join(clients)}")
    print(f"  each file downloaded from outside the fleet exactly once: {'yes' if ok else 'NO'}")
    return ok


def by_hand(host):
    lab_vars = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all.yml").read_text())
    env = {
        "PYPI_INDEX": os.environ.get("LAB_PYPI_INDEX_URL")
        or subprocess.run([str(LAB / "pypi-mirror.sh"), "url"], capture_output=True, text=True, check=True).stdout.strip(),
        "TORCH_INDEX": os.environ.get("LAB_TORCH_INDEX_URL")
        or subprocess.run([str(LAB / "torch-index.sh"), "url"], capture_output=True, text=True, check=True).stdout.strip(),
        "HF_ENDPOINT": os.environ.get("LAB_HF_ENDPOINT")
        or subprocess.run([str(LAB / "hf-mirror.sh"), "url"], capture_output=True, text=True, check=True).stdout.strip(),
        "API_KEY": (Path(os.environ.get("LAB_DIR", REPO / ".lab")) / "api-key").read_text().strip(),
        "VLLM_VERSION": lab_vars["vllm_install_version"],
        "TORCH_VERSION": lab_vars["vllm_install_torch_version"],
    }
    cmd = ["docker", "exec", "-i"] + [f"-e{k}={v}" for k, v in env.items()] + [host, "bash", "-s"]
    start = time.monotonic()
    with open(Path(__file__).with_name("runbook_cpu.sh"), "rb") as script:
        proc = subprocess.run(cmd, stdin=script, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"the hand-typed runbook failed:\n{proc.stdout.decode()[-2000:]}{proc.stderr.decode()[-2000:]}")
    return time.monotonic() - start


def report_phases(title, wall, changed, roles):
    print(f"  {title}: {wall:7.1f} s   (changed={changed})")
    for role, label in PHASES.items():
        print(f"    {label:<32} {roles.get(role, 0.0):7.1f} s")
    other = sum(v for k, v in roles.items() if k not in PHASES)
    print(f"    {'checks, facts, other':<32} {other:7.1f} s")


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def quick(host):
    """One re-run of a converged host of the Molecule inventory."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    rerun, changed, roles = converge(inventory, limit=host)
    print(f"\ncpu_node converge benchmark, quick mode: one re-run of {host}")
    report_phases("re-run", rerun, changed, roles)
    print(f"converge ratios: fresh/hand=n/a rerun/fresh=n/a fleet4/fleet1=n/a (quick: re-run {rerun:.1f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--fleet", type=int, default=4, help="hosts of the fleet run (0: skip it)")
    parser.add_argument("--keep", action="store_true", help="keep the single host (inferops-bench-1) afterwards")
    parser.add_argument("--quick", metavar="HOST", help="one re-run of HOST (Molecule inventory)")
    args = parser.parse_args()
    if args.quick:
        quick(args.quick)
        return

    single, hand_host = ["inferops-bench-1"], "inferops-bench-hand"
    fleet = [f"inferops-bench-f{n}" for n in range(1, args.fleet + 1)]
    fleet_wall = fresh_cpu = None
    # Each figure is printed when measured: a run that fails late keeps what it measured.
    print(f"cpu_node converge benchmark on fresh lab hosts ({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            fresh_hosts([hand_host])
            cpu_before = children_cpu()
            hand = by_hand(hand_host)
            # Read before the container goes: the work the hand script did, against the play's below.
            hand_cpu = hosts_cpu([hand_host])
            remove([hand_host])
            print(f"  runbook typed by hand (tests/bench/runbook_cpu.sh): {hand:7.1f} s", flush=True)
            report_cpu("by hand", hand_cpu, children_cpu() - cpu_before, hand)
            fresh_hosts(single)
            inv = inventory_for(tmp, single)
            cpu_before = children_cpu()
            fresh, fresh_changed, roles = converge(inv)
            report_phases("cpu_node.yml, fresh host", fresh, fresh_changed, roles)
            fresh_cpu = report_cpu("fresh", hosts_cpu(single), children_cpu() - cpu_before, fresh)
            rerun, rerun_changed, rerun_roles = converge(inv)
            report_phases("cpu_node.yml, re-run", rerun, rerun_changed, rerun_roles)
            if not args.keep:
                remove(single)
            if fleet:
                fresh_hosts(fleet)
                since = mirror_logs.offsets()
                cpu_before = children_cpu()
                fleet_wall, fleet_changed = converge(inventory_for(tmp, fleet))[:2]
                print(f"  cpu_node.yml, {len(fleet)} fresh hosts at once, {fleet[0]} the wheel and model seed: "
                      f"{fleet_wall:7.1f} s   (changed={fleet_changed})")
                fleet_cpu = report_cpu(f"fleet of {len(fleet)}", hosts_cpu(fleet), children_cpu() - cpu_before, fleet_wall)
                if fleet_cpu and fresh:
                    # What two cores allow: the fleet's CPU over the cores, against one host's wall time.
                    print(f"    fleet{len(fleet)}/fleet1 can be no lower than {fleet_cpu / os.cpu_count() / fresh:.2f} "
                          f"on {os.cpu_count()} CPUs (its CPU time / CPUs / one host's wall time; one host's CPU time: "
                          f"{fresh_cpu or 0:.1f} s)")
                report_downloads(mirror_logs.downloads_since(since, mirror_logs.addresses_of(fleet)), fleet[0])
        finally:
            remove([hand_host] + fleet + ([] if args.keep else single))

    # (fleet4 also when the fleet run was skipped: the line's shape is what readers grep for)
    print(f"converge ratios: fresh/hand={ratio(fresh, hand)} rerun/fresh={ratio(rerun, fresh)} "
          f"fleet{len(fleet) or 4}/fleet1={ratio(fleet_wall, fresh)}")


if __name__ == "__main__":
    main()
