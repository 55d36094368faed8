"""Where other hosts of the fleet reach a host: one rule for the gateway's backends and for the
monitoring's scrape targets."""

from __future__ import annotations


def host_address(hostvars_of_host, name):
    """In order: the host's gateway_backend_address, the IPv4 address of its default route
    (facts), its ansible_host, its inventory name."""
    hv = hostvars_of_host or {}
    facts = hv.get("ansible_facts") or {}
    return (hv.get("gateway_backend_address")
            or (facts.get("default_ipv4") or {}).get("address")
            or hv.get("ansible_host")
            or name)
