"""Facts about the host itself: container detection for the roles that must skip kernel work,
and the address a multi-homed node uses for cluster traffic."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

CONTAINER_TYPES = ("docker", "container", "containerd", "podman", "lxc", "systemd-nspawn")


def in_container(facts):
    """True when Ansible's facts describe a container guest (no kernel modules, no reboot)."""
    facts = facts or {}
    return facts.get("virtualization_role", "") == "guest" and facts.get("virtualization_type", "") in CONTAINER_TYPES


def _ipv4_addresses(facts, name):
    """Every IPv4 address of one interface, primary first (Ansible names eth-1 as eth_1)."""
    iface = facts.get(name.replace("-", "_")) or {}
    primary = iface.get("ipv4") or {}
    found = [primary] if primary.get("address") else []
    return found + [a for a in iface.get("ipv4_secondaries") or [] if a.get("address")]


def _interface_names(facts):
    return ", ".join(sorted(facts.get("interfaces") or [])) or "none gathered"


def node_address(facts, interface="", subnet="", var_prefix="ray_cluster"):
    """The interface and IPv4 address this node uses for cluster traffic.

    `subnet` (a CIDR) suits fleets whose NIC names differ from host to host; `interface` names
    the NIC; neither takes the default route's. Errors name the variable to fix."""
    facts = facts or {}
    if interface and subnet:
        raise AnsibleFilterError(f"set {var_prefix}_interface or {var_prefix}_subnet, not both")
    if subnet:
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError as exc:
            raise AnsibleFilterError(f"{var_prefix}_subnet '{subnet}' is not a CIDR such as 10.0.0.0/24: {exc}") from exc
        matches = [(name, a["address"]) for name in sorted(facts.get("interfaces") or [])
                   for a in _ipv4_addresses(facts, name) if ipaddress.ip_address(a["address"]) in network]
        if not matches:
            raise AnsibleFilterError(
                f"no interface of this host has an address in {var_prefix}_subnet {subnet}; "
                f"its interfaces: {_interface_names(facts)}")
        if len({match[0] for match in matches}) > 1:
            raise AnsibleFilterError(
                f"several interfaces have addresses in {var_prefix}_subnet {subnet} ({matches}); "
                f"set {var_prefix}_interface for this host instead")
        return {"interface": matches[0][0], "address": matches[0][1]}
    if interface:
        found = _ipv4_addresses(facts, interface)
        if not found:
            raise AnsibleFilterError(
                f"{var_prefix}_interface '{interface}' has no IPv4 address on this host; "
                f"its interfaces: {_interface_names(facts)}")
        return {"interface": interface, "address": found[0]["address"]}
    default = facts.get("default_ipv4") or {}
    if not default.get("address"):
        raise AnsibleFilterError(
            f"this host has no default IPv4 route; set {var_prefix}_interface or {var_prefix}_subnet")
    return {"interface": default.get("interface", ""), "address": default["address"]}


class FilterModule:
    def filters(self):
        return {"in_container": in_container, "node_address": node_address}
