"""A two-node Ray cluster of CPU lab hosts sharing one venv and model path."""
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
RAY_PY = "/opt/inferops/vllm/current/bin/python"
testinfra_hosts = ["ansible://inferops-ray-head"]


def test_ray_cluster_has_both_nodes(host):
    ip = host.check_output("hostname -I").split()[0]
    out = host.check_output(
        f"{RAY_PY} -c \"import ray; ray.init(address='{ip}:6379', logging_level='ERROR'); "
        "print(len([n for n in ray.nodes() if n['Alive']]))\"")
    assert out.splitlines()[-1] == "2"


def test_check_mode_on_the_converged_cluster_changes_nothing():
    out, recap = run_playbook(str(REPO / "molecule" / "cluster" / "converge.yml"), "--check", "--diff")
    assert set(recap) >= {"inferops-ray-head", "inferops-ray-worker"}, out[-3000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]


def test_units_pin_ports_and_node_ip(host):
    ip = host.check_output("hostname -I").split()[0]
    unit = host.file("/etc/systemd/system/ray-head.service").content_string
    for flag in ("--port=6379", "--dashboard-port=8265", "--ray-client-server-port=10001",
                 "--node-manager-port=6380", "--object-manager-port=6381", "--min-worker-port=10002",
                 "--max-worker-port=10999", f"--node-ip-address={ip}"):
        assert flag in unit, flag
    assert f'"VLLM_HOST_IP={ip}"' in unit
    host.run_expect([0], f"timeout 5 bash -c '</dev/tcp/{ip}/6379'")  # GCS answers on the node IP
    assert host.socket("tcp://127.0.0.1:8265").is_listening  # the dashboard stays on loopback
    assert host.service("ray-head").is_enabled and host.service("ray-head").is_running
    assert host.check_output("ps -o user= -C raylet").split()[0] == "vllm"


def test_worker_joined_with_its_own_address():
    out = subprocess.run(["docker", "exec", "inferops-ray-worker", "systemctl", "is-active", "ray-worker"],
                         capture_output=True, text=True, check=False).stdout.strip()
    assert out == "active"


def test_vllm_cpu_with_ray_is_refused_before_any_change(host):
    proc = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", "inferops-ray-head",
         str(REPO / "playbooks" / "cpu_node.yml"), "-e", "inferops_target=ray_head",
         "-e", "vllm_service_distributed_executor_backend=ray", "-e", "vllm_service_pipeline_parallel_size=2",
         "-e", '{"vllm_install_extra_packages": ["ray[default]==2.60.0"]}'],
        capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "vLLM's CPU backend does not support the Ray executor" in out, out[-3000:]
    assert "changed=0" in out.split("PLAY RECAP")[-1]
    assert not host.file("/etc/systemd/system/vllm.service").exists


def test_vllm_itself_refuses_ray_on_cpu(host):
    """Why CPU scale-out is replicas, shown by vLLM itself: serving the model over this Ray
    cluster with pipeline parallel 2 fails in vLLM's Ray setup. If a vLLM release lifts the
    limit this test fails, and the refusal in vllm_service/tasks/validate.yml should go.
    Started as the service unit starts it: vllm-cpu's `vllm` console script looks up a
    distribution named vllm and fails before parsing anything."""
    ip = host.check_output("hostname -I").split()[0]
    out = host.run(
        "cd /var/lib/vllm && sudo -u vllm env HOME=/var/lib/vllm RAY_ADDRESS=" + ip + ":6379 VLLM_HOST_IP=" + ip
        + " VLLM_CPU_KVCACHE_SPACE=1 timeout 600 /opt/inferops/vllm/current/bin/python"
        " -m vllm.entrypoints.openai.api_server --model /srv/models/tiny-qwen2"
        " --dtype bfloat16 --max-model-len 512 --port 8100"
        " --distributed-executor-backend ray --pipeline-parallel-size 2")
    log = out.stdout + out.stderr
    print(log[-1500:])
    assert out.rc not in (0, 124), log[-3000:]
    assert "current platform cpu does not support ray" in log, log[-3000:]
