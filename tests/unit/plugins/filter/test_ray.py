import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.inferops.inference.plugins.filter.ray import ray_start_args

PORTS = {
    "gcs_port": 6379, "dashboard_port": 8265, "client_port": 10001, "node_manager_port": 6380,
    "object_manager_port": 6381, "metrics_export_port": 6382, "dashboard_agent_grpc_port": 6383,
    "dashboard_agent_listen_port": 52365, "runtime_env_agent_port": 6384,
    "min_worker_port": 10002, "max_worker_port": 10999,
}
NODE = ["--node-manager-port=6380", "--object-manager-port=6381", "--metrics-export-port=6382",
        "--dashboard-agent-grpc-port=6383", "--dashboard-agent-listen-port=52365",
        "--runtime-env-agent-port=6384", "--min-worker-port=10002", "--max-worker-port=10999",
        "--disable-usage-stats"]


def test_head_command_line_is_the_one_units_always_had():
    args = ray_start_args({**PORTS, "is_head": True, "node_ip": "10.0.0.1", "temp_dir": "/var/lib/vllm/ray",
                           "dashboard_host": "127.0.0.1", "num_cpus": None, "num_gpus": None})
    assert args == ["--head", "--port=6379", "--temp-dir=/var/lib/vllm/ray", "--dashboard-host=127.0.0.1",
                    "--dashboard-port=8265", "--ray-client-server-port=10001", "--block",
                    "--node-ip-address=10.0.0.1"] + NODE


def test_worker_joins_the_head_and_offers_resources():
    args = ray_start_args({**PORTS, "is_head": False, "node_ip": "10.0.0.2", "head_address": "10.0.0.1:6379",
                           "num_cpus": 8, "num_gpus": "0"})
    assert args == ["--address=10.0.0.1:6379", "--block", "--node-ip-address=10.0.0.2"] + NODE + [
        "--num-cpus=8", "--num-gpus=0"]


@pytest.mark.parametrize("change", [
    {"max_worker_port": 70000}, {"node_manager_port": "6380; rm"}, {"min_worker_port": 11000},
    {"node_ip": ""}, {"head_address": ""}, {"num_cpus": -1}, {"num_gpus": "all"},
])
def test_bad_settings_are_refused(change):
    settings = {**PORTS, "is_head": False, "node_ip": "10.0.0.2", "head_address": "10.0.0.1:6379", **change}
    with pytest.raises(AnsibleFilterError):
        ray_start_args(settings)
