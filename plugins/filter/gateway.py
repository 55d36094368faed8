"""Backends of the gateway from inventory: where each vLLM replica listens."""

from __future__ import annotations


def gateway_backends(hosts, hostvars, default_port=8000):
    """['10.0.0.11:8000', ...] for the given inventory hosts.

    The address is, in order: the host's gateway_backend_address, the IPv4 address of its
    default route (facts), its ansible_host, its inventory name. The port is its
    vllm_service_port.
    """
    backends = []
    for name in hosts:
        hv = hostvars[name]
        facts = hv.get("ansible_facts") or {}
        address = (hv.get("gateway_backend_address")
                   or (facts.get("default_ipv4") or {}).get("address")
                   or hv.get("ansible_host")
                   or name)
        port = int(hv.get("vllm_service_port", default_port))
        backends.append(f"{address}:{port}")
    return backends


class FilterModule:
    def filters(self):
        return {"gateway_backends": gateway_backends}
