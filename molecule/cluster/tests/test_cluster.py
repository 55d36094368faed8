"""A two-node Ray cluster serving one model with pipeline parallel 2 (vLLM CPU backend)."""
import json
import os
from pathlib import Path

API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
testinfra_hosts = ["ansible://inferops-ray-head"]
RAY_PY = "/opt/inferops/vllm/current/bin/python"


def test_ray_cluster_has_both_nodes(host):
    ip = host.check_output("hostname -I").split()[0]
    out = host.check_output(
        f"{RAY_PY} -c \"import ray; ray.init(address='{ip}:6379', logging_level='ERROR'); "
        "print(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']))\"")
    assert len(eval(out.splitlines()[-1])) == 2  # noqa: S307 - a list literal printed by the line above


def test_ports_are_pinned(host):
    for port in (6379, 10001, 6380, 6381):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(f"tcp://{host.check_output('hostname -I').split()[0]}:{port}").is_listening, port
    assert host.socket("tcp://127.0.0.1:8265").is_listening  # dashboard on loopback only


def test_vllm_serves_across_both_nodes(host):
    unit = host.file("/etc/systemd/system/vllm.service").content_string
    assert "--pipeline-parallel-size 2" in unit and "--distributed-executor-backend ray" in unit
    host.run_expect([0], f"umask 077; printf 'Authorization: Bearer %s\\n' '{API_KEY}' > /root/hdr")
    body = json.dumps({"model": "tiny-qwen2", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    out = host.check_output(f"curl -sf -H @/root/hdr -H 'Content-Type: application/json' -d '{body}' "
                            "http://127.0.0.1:8000/v1/chat/completions")
    assert json.loads(out)["usage"]["completion_tokens"] > 0
    host.run("rm -f /root/hdr")
