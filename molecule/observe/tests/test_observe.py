"""Prometheus watches the served tiny model: every expression the dashboard and the alert rules
use returns data after some load, and the endpoint-down alert fires when the server stops.
The benchmark playbook runs against the same server."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import curl, run_playbook  # noqa: E402

HOST = "inferops-observe"
testinfra_hosts = [f"ansible://{HOST}"]
API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
DASHBOARD = "/var/lib/inferops/grafana/inferops-vllm.json"
GATEWAY = "http://127.0.0.1:8080"
ALERT = re.compile(r"^\((?P<signal>.*)\) (==|!=|>=|<=|>|<) \S+$")


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


def test_every_target_is_up(host):
    def up():
        targets = prom(host, "/api/v1/targets")["data"]["activeTargets"]
        return targets if targets and all(t["health"] == "up" for t in targets) else None
    targets = wait_for(up, 60)
    assert targets, prom(host, "/api/v1/targets")
    assert sorted(t["labels"]["job"] for t in targets) == ["nginx", "node", "prometheus", "vllm"]


def test_the_rules_and_configuration_pass_promtool(host):
    host.run_expect([0], "promtool check rules /etc/prometheus/rules/inferops.yml")
    host.run_expect([0], "promtool check config /etc/prometheus/prometheus.yml")
    names = [r["name"] for g in prom(host, "/api/v1/rules")["data"]["groups"] for r in g["rules"]]
    assert names == ["VLLMEndpointDown", "VLLMQueueGrowing", "VLLMKVCacheNearlyFull", "VLLMTimeToFirstTokenHigh",
                     "GatewayDown"]


# Two small profiles: the playbook's code paths (both datasets, the table, the gate), not a
# measurement of the lab.
BENCH = {"benchmark_profiles": [
    {"name": "short", "dataset": "random", "input_len": 32, "output_len": 16, "num_prompts": 8, "max_concurrency": 4},
    {"name": "prefix", "dataset": "prefix_repetition", "prefix_len": 64, "input_len": 16, "output_len": 16,
     "num_prefixes": 2, "num_prompts": 8, "max_concurrency": 4}], "benchmark_run": ["short", "prefix"]}


def test_the_benchmark_playbook_reports_and_gates(host, tmp_path):
    """playbooks/benchmark.yml: a cold and a warm start timed by phase (eager here, so the cold
    start empties caches that nothing uses: the module's code path, not a compile cache's
    effect, which make bench-style runs by hand measure), then vLLM's serving
    benchmark from the host's venv, the results on the controller, the tables printed; then a
    baseline three times faster fails the play by name."""
    playbook = str(Path(__file__).resolve().parents[3] / "playbooks" / "benchmark.yml")
    settings = {**BENCH, "inferops_target": "all", "benchmark_results_dir": str(tmp_path)}
    out, recap = run_playbook(playbook, "-e", json.dumps({**settings, "benchmark_startup": True}))
    assert recap["inferops-observe"]["changed"] == 1, recap  # the restarts (one looped task)
    assert API_KEY not in out
    starts = json.loads(next(tmp_path.glob("*/startup.json")).read_text())
    print("startup:", json.dumps(starts))
    assert [s["mode"] for s in starts] == ["cold", "warm"]
    for start in starts:
        phases = [p["phase"] for p in start["phases"]]
        assert "loading weights" in phases and phases[-1] == "ready", start
        # (journald stamps lines when it reads them: "ready" may trail /health on a busy machine)
        assert 0 < start["phases"][-1]["at_s"] and 0 < start["health_s"] <= start["first_completion_s"], start
    assert "inferops-observe cold: /health" in " ".join(out.split())
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert [(r["host"], r["profile"]) for r in summary] == [("inferops-observe", "short"), ("inferops-observe", "prefix")]
    for row in summary:
        assert row["completed"] == 8 and row["failed"] == 0 and row["out_tok_s"] > 0 and row["ttft_p99"] > 0, row
        result = json.loads((runs[0] / "inferops-observe" / f"{row['profile']}.json").read_text())
        assert result["completed"] == 8 and result["model_id"] == "tiny-qwen2"
    flat = " ".join(out.split())
    assert "host profile ok failed req/s tok/s TTFT50 TTFT99" in flat
    assert "inferops-observe short 8 0" in flat and "inferops-observe prefix 8 0" in flat
    assert host.run("ls -d /tmp/inferops-benchmark-* 2>/dev/null").stdout == ""  # removed again

    faster = [{**row, "out_tok_s": row["out_tok_s"] * 3} for row in summary]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(faster))
    out, recap = run_playbook(playbook, "-e", json.dumps({**settings, "benchmark_run": ["short"],
                                                          "benchmark_baseline": str(baseline)}), expect_ok=False)
    assert "Worse than the baseline" in out and "inferops-observe (short): output throughput" in " ".join(out.split()), \
        out[-3000:]


def test_every_dashboard_and_alert_expression_returns_data(host):
    """A panel that shows no data is a failing test: after a few completions (and two scrapes)
    each expression of the dashboard and each alert's signal (its expression without the
    threshold) returns at least one series, with a number."""
    for index in range(8):
        status, body = curl(host, "/v1/completions", key=API_KEY, url=GATEWAY,
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


def test_the_endpoint_down_alert_fires_when_the_server_stops(host):
    host.run_expect([0], "systemctl stop vllm")
    try:
        def firing():
            alerts = prom(host, "/api/v1/alerts")["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "VLLMEndpointDown" and a["state"] == "firing"]
        fired = wait_for(firing, 120)
        assert fired, prom(host, "/api/v1/alerts")
        assert fired[0]["labels"]["severity"] == "critical"
        assert fired[0]["labels"]["instance"].endswith(":8000")
    finally:
        host.run_expect([0], "systemctl start vllm")
    assert wait_for(lambda: host.run("curl -sf -o /dev/null http://127.0.0.1:8000/health").rc == 0, 600, step=5)


def test_a_bad_duration_is_refused_before_any_change():
    """A duration reaches Prometheus' command line and rule files: one token only."""
    repo = Path(__file__).resolve().parents[3]
    proc = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                           str(repo / "playbooks" / "monitoring.yml"), "-e", "inferops_target=all",
                           "-e", json.dumps({"monitoring_retention": "15d --web.enable-admin-api"})],
                          capture_output=True, text=True, check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0 and "monitoring_retention must be a Prometheus duration" in out, out[-3000:]
    assert "changed=0" in out
