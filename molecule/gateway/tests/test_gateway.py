"""Two vLLM replicas behind the gateway: edge auth, rolling restart, rolling upgrade and a
killed replica under a steady loopback load (5 requests/s from inside the gateway's
container; each one a completion that both replicas' single cores must also serve while they
restart and compile), with zero failed requests."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
LAB = Path(os.environ["LAB_DIR"])
API_KEY = (LAB / "api-key").read_text().strip()
GW = "http://127.0.0.1:8080/v1/chat/completions"
testinfra_hosts = ["ansible://inferops-gateway"]


def start_load(host, name):
    host.run_expect([0], f"rm -f /root/{name}.json /root/{name}.stop")
    host.run_expect([0], f"umask 077; printf '%s' '{API_KEY}' > /root/key")
    host.run_expect([0], f"setsid nohup python3 /root/load.py {GW} /root/key /root/{name}.json /root/{name}.stop "
                         "1000000 900 2 5 >/root/{0}.log 2>&1 &".format(name))
    time.sleep(5)


def stop_load(host, name):
    """Stop the load and return its counts; the load must have run until now, not run out."""
    host.run_expect([0], f"touch /root/{name}.stop")
    for dummy in range(150):
        result = host.run(f"cat /root/{name}.json")
        if result.rc == 0 and json.loads(result.stdout).get("done"):
            counts = json.loads(result.stdout)
            (LAB / f"gateway-{name}.json").write_text(json.dumps(counts))
            print(f"{name}: sent={counts['sent']} ok={counts['ok']} failed={counts['failed']} "
                  f"longest gap={counts['max_gap_s']} s over {counts['seconds']} s")
            assert counts["stopped_by"] == "stop-file", counts
            return counts
        time.sleep(1)
    raise AssertionError("the load generator did not stop")


def test_check_mode_on_the_converged_fleet_changes_nothing():
    """Runs first: the upgrade test below changes the replicas' configuration on purpose."""
    out, recap = run_playbook(str(REPO / "molecule" / "gateway" / "converge.yml"), "--check", "--diff")
    assert set(recap) >= {"inferops-gateway", "inferops-replica-a", "inferops-replica-b"}, out[-3000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]
    assert API_KEY not in out


def test_edge_auth(host):
    body = "'{\"model\": \"tiny-qwen2\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2}'"
    no_key = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' -d {body} {GW}")
    assert no_key == "401"
    host.run_expect([0], f"umask 077; printf 'Authorization: Bearer %s\\n' '{API_KEY}' > /root/hdr")
    ok = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' -H @/root/hdr -H 'Content-Type: application/json' -d {body} {GW}")
    assert ok == "200"
    assert API_KEY not in host.check_output("ps -eo args")


def test_rolling_restart_loses_no_request(host):
    subprocess.run(["docker", "cp", str(REPO / "tests" / "lab" / "load.py"), "inferops-gateway:/root/load.py"], check=True)
    start_load(host, "rolling")
    began = time.time()
    proc = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                           str(REPO / "playbooks" / "rolling_restart.yml")], capture_output=True, text=True, check=False)
    print(f"rolling restart playbook: {time.time() - began:.0f} s, rc={proc.returncode}")
    counts = stop_load(host, "rolling")
    assert proc.returncode == 0, proc.stdout[-3000:]
    # One replica at a time, through vllm_service's restart entry point.
    assert proc.stdout.count("TASK [inferops.inference.vllm_service : Restart the server]") == 2, proc.stdout[-3000:]
    # (an include_role task is shown without its role's name)
    assert proc.stdout.count("TASK [Take this replica out of rotation]") == 2
    assert counts["sent"] > 20 and counts["failed"] == 0, counts
    assert counts["max_gap_s"] < 10, counts


def test_rolling_upgrade_through_the_profile_playbook(host, tmp_path):
    """A configuration change rolled out by cpu_node.yml one replica at a time, each drained
    before the restart its changed unit needs, and each batch gated by the benchmark role."""
    start_load(host, "upgrade")
    began = time.time()
    extra = {"inferops_target": "vllm_replicas", "model_fleet_seed": "inferops-replica-a",
             "inferops_serial": 1, "vllm_service_drain_on_restart": True, "vllm_service_max_num_seqs": 16,
             "inferops_benchmark_gate": True, "benchmark_results_dir": str(tmp_path),
             "benchmark_profiles": [{"name": "gate", "dataset": "random", "input_len": 16, "output_len": 8,
                                     "num_prompts": 4, "max_concurrency": 2}], "benchmark_run": ["gate"]}
    proc = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                           str(REPO / "playbooks" / "cpu_node.yml"), "-e", json.dumps(extra)],
                          capture_output=True, text=True, check=False)
    print(f"rolling upgrade playbook: {time.time() - began:.0f} s, rc={proc.returncode}")
    counts = stop_load(host, "upgrade")
    assert proc.returncode == 0, proc.stdout[-3000:]
    # The changed unit restarts each replica through the same restart entry point, drained.
    assert proc.stdout.count("TASK [inferops.inference.vllm_service : Restart the server]") == 2, proc.stdout[-3000:]
    rewrites = [t for t in proc.stdout.split("TASK [")
                if t.startswith("inferops.inference.inferops : Write the list of replicas]")]
    assert [("changed: [" in t) for t in rewrites] == [True] * 4, rewrites  # out and back in, per replica
    assert " down" not in host.file("/etc/nginx/inferops-upstreams.conf").content_string
    for replica in ("inferops-replica-a", "inferops-replica-b"):
        unit = subprocess.run(["docker", "exec", replica, "systemctl", "cat", "vllm"],
                              capture_output=True, text=True, check=True).stdout
        assert "--max-num-seqs 16" in unit, unit
    assert counts["sent"] > 20 and counts["failed"] == 0, counts
    assert counts["max_gap_s"] < 10, counts
    # The gate: one benchmark per batch, on the replica just upgraded, each with its summary.
    summaries = sorted(tmp_path.glob("*/summary.json"))
    assert [json.loads(f.read_text())[0]["host"] for f in summaries] == ["inferops-replica-a", "inferops-replica-b"], \
        summaries
    assert all(json.loads(f.read_text())[0]["failed"] == 0 for f in summaries)


def test_killed_replica_traffic_keeps_flowing(host):
    start_load(host, "kill")
    subprocess.run(["docker", "exec", "inferops-replica-b", "systemctl", "kill", "-s", "KILL", "vllm"], check=True)
    time.sleep(40)
    counts = stop_load(host, "kill")
    assert counts["sent"] > 10 and counts["failed"] == 0, counts
    assert counts["max_gap_s"] < 10, counts
