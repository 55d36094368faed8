"""Facts about the host itself, shared by the roles that must skip kernel work in containers."""

from __future__ import annotations

CONTAINER_TYPES = ("docker", "container", "containerd", "podman", "lxc", "systemd-nspawn")


def in_container(facts):
    """True when Ansible's facts describe a container guest (no kernel modules, no reboot)."""
    facts = facts or {}
    return facts.get("virtualization_role", "") == "guest" and facts.get("virtualization_type", "") in CONTAINER_TYPES


class FilterModule:
    def filters(self):
        return {"in_container": in_container}
