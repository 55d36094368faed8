"""The `ray start` command line of a cluster node, built from the ray_cluster role's settings."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Ports every node pins, so that firewalls can be opened narrowly between the nodes.
_NODE_PORTS = (
    ("node_manager_port", "--node-manager-port"),
    ("object_manager_port", "--object-manager-port"),
    ("metrics_export_port", "--metrics-export-port"),
    ("dashboard_agent_grpc_port", "--dashboard-agent-grpc-port"),
    ("dashboard_agent_listen_port", "--dashboard-agent-listen-port"),
    ("runtime_env_agent_port", "--runtime-env-agent-port"),
    ("min_worker_port", "--min-worker-port"),
    ("max_worker_port", "--max-worker-port"),
)
_HEAD_PORTS = (
    ("gcs_port", "--port"),
    ("dashboard_port", "--dashboard-port"),
    ("client_port", "--ray-client-server-port"),
)


def _port(settings, key):
    value = settings.get(key)
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"ray_start_args: {key} must be a port number, got {value!r}") from None
    if not 0 < port < 65536:
        raise AnsibleFilterError(f"ray_start_args: {key} must be in 1-65535, got {port}")
    return port


def _count(settings, key):
    value = settings.get(key)
    if value is None or value == "":
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"ray_start_args: {key} must be a whole number or null, got {value!r}") from None
    if count < 0:
        raise AnsibleFilterError(f"ray_start_args: {key} must not be negative, got {count}")
    return count


def ray_start_args(settings):
    """Arguments after `ray start` for a head (is_head) or a worker (head_address).

    settings: is_head, node_ip, temp_dir (head), dashboard_host (head), head_address
    (workers, "ip:port"), the ports of _HEAD_PORTS and _NODE_PORTS, num_cpus and num_gpus
    (null: Ray detects them). --block keeps `ray start` in the foreground for systemd.
    """
    if not isinstance(settings, dict):
        raise AnsibleFilterError("ray_start_args expects a dict of settings")
    node_ip = str(settings.get("node_ip") or "")
    if not node_ip:
        raise AnsibleFilterError("ray_start_args: node_ip is required")
    if settings.get("is_head"):
        args = ["--head"]
        args += [f"{flag}={_port(settings, key)}" for key, flag in _HEAD_PORTS[:1]]
        args += [f"--temp-dir={settings['temp_dir']}", f"--dashboard-host={settings['dashboard_host']}"]
        args += [f"{flag}={_port(settings, key)}" for key, flag in _HEAD_PORTS[1:]]
    else:
        head = str(settings.get("head_address") or "")
        if not head:
            raise AnsibleFilterError("ray_start_args: a worker needs head_address (ip:port)")
        args = [f"--address={head}"]
    args += ["--block", f"--node-ip-address={node_ip}"]
    args += [f"{flag}={_port(settings, key)}" for key, flag in _NODE_PORTS]
    if _port(settings, "min_worker_port") > _port(settings, "max_worker_port"):
        raise AnsibleFilterError("ray_start_args: min_worker_port must not exceed max_worker_port")
    args.append("--disable-usage-stats")
    for key, flag in (("num_cpus", "--num-cpus"), ("num_gpus", "--num-gpus")):
        count = _count(settings, key)
        if count is not None:
            args.append(f"{flag}={count}")
    return args


class FilterModule:
    def filters(self):
        return {"ray_start_args": ray_start_args}
