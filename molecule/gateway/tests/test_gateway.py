"""Two vLLM replicas behind the gateway: edge auth, rolling restart, rolling upgrade and a
killed replica under a steady loopback load (5 requests/s from inside the gateway's
container; each one a completion that both replicas' single cores must also serve while they
restart and compile), with zero failed requests.

The gateway host is also the monitoring host: every scrape target is up, every expression of
the dashboard and of the alert rules returns data after the load, and the endpoint-down alert
fires for the killed replica. playbooks/benchmark.yml runs against replica a."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from mirror_logs import addresses_of  # noqa: E402
from recap import curl, lab_host, run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
LAB = Path(os.environ["LAB_DIR"])
API_KEY = (LAB / "api-key").read_text().strip()
GW = "http://127.0.0.1:8080/v1/chat/completions"
testinfra_hosts = ["ansible://inferops-gateway"]
DASHBOARD = "/var/lib/inferops/grafana/inferops-vllm.json"
ALERT = re.compile(r"^\((?P<signal>.*)\) (==|!=|>=|<=|>|<) \S+$")
BENCHED = "inferops-replica-a"


def prom(host, path):
    """Prometheus' HTTP API, asked from its own host (it listens on 127.0.0.1 only)."""
    return json.loads(host.check_output(f"curl -sf 'http://127.0.0.1:9090{path}'"))


def query(host, expr):
    return prom(host, "/api/v1/query?query=" + urllib.parse.quote(expr, safe=""))["data"]["result"]


def wait_for(predicate, timeout, step=3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


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


def test_every_target_is_up(host):
    def up():
        targets = prom(host, "/api/v1/targets")["data"]["activeTargets"]
        return targets if targets and all(t["health"] == "up" for t in targets) else None
    targets = wait_for(up, 60)
    assert targets, prom(host, "/api/v1/targets")
    # vLLM on both replicas, the node exporter on all three hosts, nginx's on the gateway.
    assert sorted(t["labels"]["job"] for t in targets) == ["nginx", "node", "node", "node", "prometheus",
                                                           "vllm", "vllm"]


def test_the_rules_and_configuration_pass_promtool(host):
    host.run_expect([0], "promtool check rules /etc/prometheus/rules/inferops.yml")
    host.run_expect([0], "promtool check config /etc/prometheus/prometheus.yml")
    names = [r["name"] for g in prom(host, "/api/v1/rules")["data"]["groups"] for r in g["rules"]]
    assert names == ["VLLMEndpointDown", "VLLMQueueGrowing", "VLLMKVCacheNearlyFull", "VLLMTimeToFirstTokenHigh",
                     "GatewayDown"]


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


def test_every_dashboard_and_alert_expression_returns_data(host):
    """A panel that shows no data is a failing test: after a few completions (and two scrapes)
    each expression of the dashboard and each alert's signal (its expression without the
    threshold) returns at least one series, with a number."""
    for index in range(8):
        status, body = curl(host, "/v1/completions", key=API_KEY, url="http://127.0.0.1:8080",
                            body={"model": "tiny-qwen2", "prompt": f"count to {index}", "max_tokens": 8})
        assert status == 200, body
    board = json.loads(host.file(DASHBOARD).content_string)
    exprs = [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    rules = [r for g in prom(host, "/api/v1/rules")["data"]["groups"] for r in g["rules"]]
    exprs += [ALERT.match(r["query"]).group("signal") for r in rules]
    assert len(exprs) == 19, exprs

    def answered(expr):
        return [s for s in query(host, expr) if s["value"][1] not in ("NaN", "+Inf", "-Inf")]
    empty = [e for e in exprs if not wait_for(lambda e=e: answered(e), 60, step=5)]
    assert empty == [], f"no data for {empty}"


# Two small profiles: the playbook's code paths (both datasets, the table, the gate), not a
# measurement of the lab.
BENCH = {"benchmark_profiles": [
    {"name": "short", "dataset": "random", "input_len": 32, "output_len": 16, "num_prompts": 8, "max_concurrency": 4},
    {"name": "prefix", "dataset": "prefix_repetition", "prefix_len": 64, "input_len": 16, "output_len": 16,
     "num_prefixes": 2, "num_prompts": 8, "max_concurrency": 4}], "benchmark_run": ["short", "prefix"]}


def test_the_benchmark_playbook_reports_and_gates(tmp_path):
    """playbooks/benchmark.yml on one replica: a cold and a warm start timed by phase (eager
    here, so the cold start empties caches that nothing uses: the module's code path, not a
    compile cache's effect, which make bench-style runs by hand measure), then vLLM's serving
    benchmark from the host's venv, the results on the controller, the tables printed; then a
    baseline three times faster fails the play by name."""
    playbook = str(REPO / "playbooks" / "benchmark.yml")
    settings = {**BENCH, "inferops_target": BENCHED, "benchmark_results_dir": str(tmp_path)}
    out, recap = run_playbook(playbook, "-e", json.dumps({**settings, "benchmark_startup": True}))
    assert recap[BENCHED]["changed"] == 1, recap  # the restarts (one looped task)
    assert API_KEY not in out
    starts = json.loads(next(tmp_path.glob("*/startup.json")).read_text())
    print("startup:", json.dumps(starts))
    assert [s["mode"] for s in starts] == ["cold", "warm"]
    for start in starts:
        phases = [p["phase"] for p in start["phases"]]
        assert "loading weights" in phases and phases[-1] == "ready", start
        # (journald stamps lines when it reads them: "ready" may trail /health on a busy machine)
        assert 0 < start["phases"][-1]["at_s"] and 0 < start["health_s"] <= start["first_completion_s"], start
    assert f"{BENCHED} cold: /health" in " ".join(out.split())
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert [(r["host"], r["profile"]) for r in summary] == [(BENCHED, "short"), (BENCHED, "prefix")]
    for row in summary:
        assert row["completed"] == 8 and row["failed"] == 0 and row["out_tok_s"] > 0 and row["ttft_p99"] > 0, row
        result = json.loads((runs[0] / BENCHED / f"{row['profile']}.json").read_text())
        assert result["completed"] == 8 and result["model_id"] == "tiny-qwen2"
    flat = " ".join(out.split())
    assert "host profile ok failed req/s tok/s TTFT50 TTFT99" in flat
    assert f"{BENCHED} short 8 0" in flat and f"{BENCHED} prefix 8 0" in flat
    assert lab_host(BENCHED).run("ls -d /tmp/inferops-benchmark-* 2>/dev/null").stdout == ""  # removed again

    faster = [{**row, "out_tok_s": row["out_tok_s"] * 3} for row in summary]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(faster))
    out, recap = run_playbook(playbook, "-e", json.dumps({**settings, "benchmark_run": ["short"],
                                                          "benchmark_baseline": str(baseline)}), expect_ok=False)
    assert "Worse than the baseline" in out and f"{BENCHED} (short): output throughput" in " ".join(out.split()), \
        out[-3000:]


def test_a_bad_duration_is_refused_before_any_change():
    """A duration reaches Prometheus' command line and rule files: one token only."""
    out, recap = run_playbook(str(REPO / "playbooks" / "monitoring.yml"),
                              "-e", json.dumps({"monitoring_retention": "15d --web.enable-admin-api"}), expect_ok=False)
    assert "monitoring_retention must be a Prometheus duration" in " ".join(out.split()), out[-3000:]
    assert recap and all(r["changed"] == 0 for r in recap.values()), recap


def test_killed_replica_traffic_keeps_flowing_and_the_down_alert_fires(host):
    """kill -9 of replica b under load: no request lost while systemd brings it back, and
    Prometheus' endpoint-down alert fires for that instance meanwhile (scrape and evaluation
    every 5 s, 10 s `for`; the eager restart here takes longer than that)."""
    start_load(host, "kill")
    killed = time.time()
    subprocess.run(["docker", "exec", "inferops-replica-b", "systemctl", "kill", "-s", "KILL", "vllm"], check=True)

    def firing():
        alerts = prom(host, "/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "VLLMEndpointDown" and a["state"] == "firing"]
    fired = wait_for(firing, 120)
    time.sleep(max(0.0, 40 - (time.time() - killed)))  # the load runs through the restart
    counts = stop_load(host, "kill")
    assert fired, prom(host, "/api/v1/alerts")
    assert len(fired) == 1 and fired[0]["labels"]["severity"] == "critical", fired
    instances = [f"{ip}:8000" for ip in addresses_of(["inferops-replica-b"])] + ["inferops-replica-b:8000"]
    assert fired[0]["labels"]["instance"] in instances, fired
    assert counts["sent"] > 10 and counts["failed"] == 0, counts
    assert counts["max_gap_s"] < 10, counts
