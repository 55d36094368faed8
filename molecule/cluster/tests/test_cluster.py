"""A two-node Ray cluster of multi-homed CPU lab hosts sharing one venv and model path, on a
private network that is not their default route."""
import json
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
import mirror_logs  # noqa: E402
from recap import lab_host, run_playbook, unit_exposure  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
RAY_PY = "/opt/inferops/vllm/current/bin/python"
SUBNET = "10.210.0.0/24"  # molecule.yml, inventories/lab/group_vars/ray_cluster.yml
testinfra_hosts = ["ansible://inferops-ray-head"]


def cluster_nic(node):
    """(interface, address) of a node on the private cluster network."""
    fields = node.check_output(f"ip -4 -o addr show to {SUBNET}").split()
    return fields[1], fields[3].split("/")[0]


@pytest.fixture(scope="module")
def worker():
    return lab_host("inferops-ray-worker")


def test_nodes_are_multi_homed_with_the_default_route_elsewhere(host, worker):
    for node in (host, worker):
        nic = cluster_nic(node)[0]
        default = node.check_output("ip -4 route show default")
        assert default and f" dev {nic} " not in f"{default} ", default


def test_ray_cluster_has_both_nodes_on_the_private_network(host, worker):
    head_ip, worker_ip = cluster_nic(host)[1], cluster_nic(worker)[1]
    out = host.check_output(
        f"{RAY_PY} -c \"import ray; ray.init(address='{head_ip}:6379', logging_level='ERROR'); "
        "print(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']))\"")
    assert out.splitlines()[-1] == str(sorted([head_ip, worker_ip]))


def test_worker_copied_the_model_from_the_head_over_the_private_network(host, worker):
    """Fleet mode: the seed's temporary server was bound to its cluster address (set by
    _cluster_checks.yml), so the worker fetched from its private address, not over the
    default route (the server's access log is in the head's journal)."""
    worker_ip = cluster_nic(worker)[1]
    served = host.check_output("journalctl -u inferops-model-seed --no-pager")
    assert re.search(rf'{re.escape(worker_ip)} .*"GET /model.safetensors HTTP/1.1" 200', served), served[-2000:]
    assert worker.file("/srv/models/tiny-qwen2/model.safetensors").sha256sum == \
        host.file("/srv/models/tiny-qwen2/model.safetensors").sha256sum


def test_each_wheel_and_model_file_came_from_outside_once_through_the_head(host, worker):
    """Fleet wheels and fleet model: the lab mirrors' logs since the converge began show every
    wheel and model file downloaded once, by the head; the worker installed its venv (uv, the
    venv's seed packages and the ~150 wheels) from the head's server, over the private network."""
    since = json.loads((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "mirror-offsets.json").read_text())
    found = mirror_logs.downloads_since(since, mirror_logs.addresses_of(["inferops-ray-head", "inferops-ray-worker"]))
    wheels = {**found.get("PyPI mirror", {}), **found.get("torch index", {})}
    assert len(wheels) > 100 and any(f.startswith("ray-") for f in wheels), sorted(wheels)[:20]
    for files in (wheels, found.get("HF mirror", {})):
        assert files and all(clients == ["inferops-ray-head"] for clients in files.values()), files
    worker_ip = cluster_nic(worker)[1]
    served = host.check_output("journalctl -u inferops-vllm-wheels --no-pager")
    assert re.search(rf'{re.escape(worker_ip)} .*"GET /torch-[^ ]*[.]whl HTTP/1.1" 200', served), served[-2000:]


def test_check_mode_on_the_converged_cluster_changes_nothing():
    out, recap = run_playbook(str(REPO / "molecule" / "cluster" / "converge.yml"), "--check", "--diff")
    assert set(recap) >= {"inferops-ray-head", "inferops-ray-worker"}, out[-3000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]


def test_units_pin_ports_and_node_ip(host):
    nic, ip = cluster_nic(host)
    unit = host.file("/etc/systemd/system/ray-head.service").content_string
    for flag in ("--port=6379", "--dashboard-port=8265", "--ray-client-server-port=10001",
                 "--node-manager-port=6380", "--object-manager-port=6381", "--min-worker-port=10002",
                 "--max-worker-port=10999", f"--node-ip-address={ip}"):
        assert flag in unit, flag
    assert f'"VLLM_HOST_IP={ip}"' in unit
    assert f'"NCCL_SOCKET_IFNAME={nic}"' in unit and f'"GLOO_SOCKET_IFNAME={nic}"' in unit
    host.run_expect([0], f"timeout 5 bash -c '</dev/tcp/{ip}/6379'")  # GCS answers on the node IP
    assert host.socket("tcp://127.0.0.1:8265").is_listening  # the dashboard stays on loopback
    assert host.service("ray-head").is_enabled and host.service("ray-head").is_running
    assert host.check_output("ps -o user= -C raylet").split()[0] == "vllm"


def test_ray_units_are_sandboxed_as_far_as_ray_allows(host, worker):
    """Issue 15: the Ray units get the vLLM unit's sandbox (GPU nodes: NVIDIA's device nodes
    only) and the cluster still forms (the tests above); systemd measures the exposure."""
    for node, unit in ((host, "ray-head.service"), (worker, "ray-worker.service")):
        assert unit_exposure(node, unit) <= 4.0
        text = node.file(f"/etc/systemd/system/{unit}").content_string
        for line in ("CapabilityBoundingSet=", "ProtectSystem=strict", "DevicePolicy=closed",
                     "DeviceAllow=char-nvidia-uvm rw", "SystemCallFilter=@system-service"):
            assert line in text, (unit, line)


def test_worker_joined_with_its_own_address(host, worker):
    nic, ip = cluster_nic(worker)
    unit = worker.file("/etc/systemd/system/ray-worker.service").content_string
    assert f"--address={cluster_nic(host)[1]}:6379" in unit
    assert f"--node-ip-address={ip}" in unit and f'"NCCL_SOCKET_IFNAME={nic}"' in unit
    assert worker.service("ray-worker").is_running


@pytest.mark.parametrize("bad, message", [
    ({"ray_cluster_subnet": "10.99.0.0/24"}, "no interface of this host has an address in ray_cluster_subnet 10.99.0.0/24"),
    ({"ray_cluster_subnet": "", "ray_cluster_interface": "eth9"}, "ray_cluster_interface 'eth9' has no IPv4 address on this host"),
    ({"ray_cluster_interface": "eth1"}, "set ray_cluster_interface or ray_cluster_subnet, not both"),
], ids=["subnet-matches-nothing", "no-such-interface", "both-set"])
def test_cluster_playbook_refuses_a_bad_cluster_network_before_any_change(bad, message):
    """playbooks/cluster.yml checks every node's cluster address first: nothing is provisioned."""
    out, recap = run_playbook(str(REPO / "playbooks" / "cluster.yml"), "-e", json.dumps(bad), expect_ok=False)
    assert message in " ".join(out.split()).replace("''", "'"), out[-3000:]  # YAML-folded output
    assert len(recap) == 2 and all(r["changed"] == 0 for r in recap.values()), out[-3000:]
    assert out.count("PLAY [") == 1, out[-3000:]


def test_vllm_cpu_with_ray_is_refused_before_any_change(host):
    out, recap = run_playbook(
        str(REPO / "playbooks" / "cpu_node.yml"), "--limit", "inferops-ray-head", "-e", "inferops_target=ray_head",
        "-e", "vllm_service_distributed_executor_backend=ray", "-e", "vllm_service_pipeline_parallel_size=2",
        "-e", '{"vllm_install_extra_packages": ["ray[default]==2.60.0"]}', expect_ok=False)
    assert "vLLM's CPU backend does not support the Ray executor" in out, out[-3000:]
    assert recap["inferops-ray-head"]["changed"] == 0, out[-3000:]
    assert not host.file("/etc/systemd/system/vllm.service").exists


def test_vllm_itself_refuses_ray_on_cpu(host):
    """Why CPU scale-out is replicas, shown by vLLM itself: serving the model over this Ray
    cluster with pipeline parallel 2 fails in vLLM's Ray setup. If a vLLM release lifts the
    limit this test fails, and the refusal in vllm_service/tasks/validate.yml should go.
    Started as the service unit starts it: vllm-cpu's `vllm` console script looks up a
    distribution named vllm and fails before parsing anything."""
    ip = cluster_nic(host)[1]
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
