"""Backends of the gateway from inventory: where each vLLM replica listens."""

from __future__ import annotations

from ansible_collections.inferops.inference.plugins.module_utils.addresses import host_address


def gateway_backends(hosts, hostvars, default_port=8000):
    """['10.0.0.11:8000', ...] for the given inventory hosts.

    The address is, in order: the host's gateway_backend_address, the IPv4 address of its
    default route (facts), its ansible_host, its inventory name. The port is its
    vllm_service_port.
    """
    return [f"{host_address(hostvars[name], name)}:{int(hostvars[name].get('vllm_service_port', default_port))}"
            for name in hosts]


def gateway_upstream_servers(backends, drain=(), max_fails=1, fail_timeout="10s"):
    """nginx `server` lines (without the keyword) for the upstream block.

    Drained backends are marked down. When a single backend is left in rotation it gets
    max_fails=0: nginx would otherwise eject it on one failed request (an idle keep-alive
    connection the replica closes, say) and answer "no live upstreams" to every client for
    fail_timeout. A group of one is never ejected by nginx either, so this only makes the
    drained case behave like it.
    """
    unknown = [b for b in drain if b not in backends]
    if unknown:
        raise ValueError(f"gateway_drain names {unknown}, which are not backends {list(backends)}")
    live = [b for b in backends if b not in drain]
    if not live:
        raise ValueError("gateway_drain takes every backend out of rotation; leave at least one")
    servers = []
    for backend in backends:
        if backend in drain:
            servers.append(f"{backend} down")
        elif len(live) == 1:
            servers.append(f"{backend} max_fails=0")
        else:
            servers.append(f"{backend} max_fails={int(max_fails)} fail_timeout={fail_timeout}")
    return servers


class FilterModule:
    def filters(self):
        return {"gateway_backends": gateway_backends,
                "gateway_upstream_servers": gateway_upstream_servers}
