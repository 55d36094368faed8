"""The sandboxing directives of the collection's systemd units (vLLM, Ray), in one place."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Measured with `systemd-analyze security` (systemd 252, Debian 12): a CPU vLLM unit with these
# scores 1.6-2.0 ("OK"). What stays open, and why, is in the vllm_service README.
_BASE = (
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("ProtectProc", "invisible"),
    ("RestrictNamespaces", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("RestrictRealtime", "yes"),
    ("LockPersonality", "yes"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK"),
    ("SystemCallArchitectures", "native"),
    ("SystemCallErrorNumber", "EPERM"),
    ("UMask", "0077"),
    ("DevicePolicy", "closed"),
)
# NVIDIA's device nodes by driver (majors from /proc/devices): /dev/nvidia[0-9]*, nvidiactl and
# nvidia-modeset (nvidia-frontend), nvidia-uvm(-tools), and the MIG capabilities (nvidia-caps).
NVIDIA_DEVICES = ("char-nvidia-frontend rw", "char-nvidia-uvm rw", "char-nvidia-caps r")
_KEY = re.compile(r"^[A-Z][A-Za-z]+$")
_DEVICE = re.compile(r"^(?!.*\.\.)(/dev/[A-Za-z0-9_][A-Za-z0-9_./-]*|(char|block)-[A-Za-z0-9_*.-]+)( [rwm]{1,3})?$")
_SYSCALL = re.compile(r"^~?@?[a-z0-9_-]{1,64}(:[A-Z0-9]{1,16})?$")
_PATH = re.compile(r"^/[^\s\x00-\x1f\x7f\"'\\;]*$")


def _value(key, value):
    text = "" if value is None else str(value)
    if any(ch in text for ch in "\n\r\x00\\") or any(ord(ch) < 32 for ch in text):
        raise AnsibleFilterError(f"systemd_sandbox: the value of {key} must be one line of plain text")
    # systemd expands %-specifiers in most settings: a literal % is written %%.
    return text.replace("%", "%%")


def systemd_sandbox(read_write_paths, device="cpu", syscall_filter=None, device_allow=None, overrides=None):
    """Lines "Key=value" for a [Service] section.

    read_write_paths: the only writable paths (ProtectSystem=strict). device: cpu (no device
    nodes at all, PrivateDevices=yes) or cuda (the NVIDIA nodes in device_allow, default
    NVIDIA_DEVICES, and nothing else). syscall_filter: allow-list items (default
    @system-service). overrides: {Directive: value} replacing or adding settings; a null value
    removes the directive (e.g. a site that must relax one).
    """
    paths = [str(p) for p in (read_write_paths or [])]
    for path in paths:
        if not _PATH.match(path):
            raise AnsibleFilterError(f"systemd_sandbox: {path!r} is not an absolute path without spaces or quotes")
    if device not in ("cpu", "cuda"):
        raise AnsibleFilterError(f"systemd_sandbox: device must be cpu or cuda, got {device!r}")
    settings = dict(_BASE)
    if paths:
        settings["ReadWritePaths"] = " ".join(paths)
    calls = [str(c) for c in (syscall_filter or ["@system-service"])]
    devices = [str(d) for d in (device_allow or NVIDIA_DEVICES)]
    for call in calls:
        if not _SYSCALL.match(call):
            raise AnsibleFilterError(f"systemd_sandbox: {call!r} is not a SystemCallFilter= item")
    for item in devices:
        if not _DEVICE.match(item) or "/../" in item + "/":
            raise AnsibleFilterError(f"systemd_sandbox: {item!r} is not a DeviceAllow= item")
    settings["SystemCallFilter"] = " ".join(calls)
    if device == "cpu":
        settings["PrivateDevices"] = "yes"
    for key, value in (overrides or {}).items():
        if not _KEY.match(str(key)):
            raise AnsibleFilterError(f"systemd_sandbox: {key!r} is not a systemd directive name")
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = "yes" if value is True else "no" if value is False else value
    lines = [f"{key}={_value(key, value)}" for key, value in settings.items()]
    if device == "cuda":
        lines += [f"DeviceAllow={item}" for item in devices]
    return lines


class FilterModule:
    def filters(self):
        return {"systemd_sandbox": systemd_sandbox}
