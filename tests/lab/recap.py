"""Helpers shared by the scenarios' verifiers: run ansible-playbook and read its PLAY RECAP,
reach any host of the scenario."""
import json
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


def curl(host, path, key=None, body=None, url="http://127.0.0.1:8000"):
    """Return (status, parsed body or text) of a request made with curl inside the container."""
    cmd = f"curl -s -o /tmp/resp -w '%{{http_code}}' --max-time 300 {url}{path}"
    if key:
        # -H @file keeps the key off curl's command line as well.
        host.run_expect([0], f"umask 077; printf 'Authorization: Bearer %s\\n' '{key}' > /tmp/hdr")
        cmd += " -H @/tmp/hdr"
    if body is not None:
        cmd += f" -H 'Content-Type: application/json' -d '{json.dumps(body)}'"
    status = int(host.check_output(cmd))
    text = host.check_output("cat /tmp/resp")
    host.run("rm -f /tmp/hdr /tmp/resp")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


CHAT = {"model": "tiny-qwen2", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def assert_serves_tiny_model(host, key):
    """The lab's tiny model answers a chat completion with the key and lists nothing without it."""
    assert curl(host, "/v1/models")[0] == 401
    status, body = curl(host, "/v1/chat/completions", key=key, body=CHAT)
    assert status == 200, body
    assert body["usage"]["completion_tokens"] > 0


def assert_check_mode_changes_nothing(playbook):
    """A --check --diff run of the playbook on converged hosts reports no change and no failure."""
    out, recap = run_playbook(str(playbook), "--check", "--diff")
    assert recap and all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]


def unit_exposure(host, unit):
    """systemd-analyze security's overall exposure of a unit (0 = locked down, 10 = exposed)."""
    import re

    out = host.run(f"systemd-analyze security --no-pager {unit}")
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    print(f"{unit}: exposure {match.group(1)}")
    return float(match.group(1))


def no_route_counts(text):
    """IPv4 OutNoRoutes and IPv6 Ip6OutNoRoutes from /proc/net/snmp + /proc/net/snmp6: on a host
    with loopback only, every connect or datagram to an address outside it counts there."""
    lines = [line.split() for line in text.splitlines() if line.startswith("Ip:")]
    ipv4 = int(dict(zip(lines[0][1:], lines[1][1:]))["OutNoRoutes"])
    ipv6 = int(re.search(r"^Ip6OutNoRoutes\s+(\d+)", text, re.M).group(1))
    return ipv4, ipv6


def no_route_counters(host):
    """The host's no-route counters now."""
    return no_route_counts(host.check_output("cat /proc/net/snmp /proc/net/snmp6"))


def assert_never_reached_outside(host, before_file="/root/airgap-counters.before"):
    """The no-route counters are those recorded before the converge (by the scenario's prepare)."""
    before = no_route_counts(host.check_output(f"cat {before_file}"))
    assert no_route_counters(host) == before


def assert_requests_outside_fail_and_count(host, urls):
    """The proof above can fail: each request outside fails here, and is counted."""
    before = no_route_counters(host)
    for url in urls:
        assert host.run(f"curl -sS --max-time 10 -o /dev/null {url}").rc != 0, url
    after = no_route_counters(host)
    assert sum(after) >= sum(before) + len(urls), (before, after)


def assert_loopback_only(host):
    """The host has no network interface but loopback, and no route."""
    links = host.check_output("ip -o link show").splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"]
    assert host.check_output("ip route show") == ""
