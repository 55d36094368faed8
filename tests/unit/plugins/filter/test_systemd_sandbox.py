import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.inferops.inference.plugins.filter.systemd_sandbox import NVIDIA_DEVICES, systemd_sandbox


def _settings(lines):
    out = {}
    for line in lines:
        key, value = line.partition("=")[::2]
        out.setdefault(key, []).append(value)
    return out


def test_cpu_hosts_get_no_device_nodes_and_no_capabilities():
    s = _settings(systemd_sandbox(["/var/lib/vllm"]))
    assert s["PrivateDevices"] == ["yes"] and s["DevicePolicy"] == ["closed"]
    assert "DeviceAllow" not in s
    assert s["CapabilityBoundingSet"] == [""] and s["ProtectSystem"] == ["strict"]
    assert s["ReadWritePaths"] == ["/var/lib/vllm"]
    assert s["SystemCallFilter"] == ["@system-service"]
    # JIT compilers (oneDNN, inductor, Triton, CUDA) need writable-executable memory.
    assert "MemoryDenyWriteExecute" not in s


def test_gpu_hosts_get_only_nvidia_device_nodes():
    s = _settings(systemd_sandbox(["/var/lib/vllm"], "cuda"))
    assert "PrivateDevices" not in s and s["DevicePolicy"] == ["closed"]
    assert s["DeviceAllow"] == list(NVIDIA_DEVICES)
    s = _settings(systemd_sandbox(["/h"], "cuda", device_allow=["/dev/nvidia0 rw"]))
    assert s["DeviceAllow"] == ["/dev/nvidia0 rw"]


def test_overrides_change_add_and_remove_settings():
    s = _settings(systemd_sandbox(["/h"], overrides={"PrivateUsers": True, "ProtectProc": None, "UMask": "0027"}))
    assert s["PrivateUsers"] == ["yes"] and "ProtectProc" not in s and s["UMask"] == ["0027"]


def test_percent_is_escaped_for_systemd_specifiers():
    assert "UMask=%%h" in systemd_sandbox(["/h"], overrides={"UMask": "%h"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"read_write_paths": ["relative"]},
        {"read_write_paths": ["/a b"]},
        {"read_write_paths": ["/h"], "device": "tpu"},
        {"read_write_paths": ["/h"], "overrides": {"Bad-Key": "1"}},
        {"read_write_paths": ["/h"], "overrides": {"UMask": "0077\nExecStartPre=/bin/sh"}},
        {"read_write_paths": ["/h"], "device": "cuda", "device_allow": ["char-nvidia rw\nUser=root"]},
    ],
)
def test_hostile_values_are_refused(kwargs):
    with pytest.raises(AnsibleFilterError):
        systemd_sandbox(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"syscall_filter": ["@system-service; x"]},
    {"syscall_filter": ["mbind\nUser=root"]},
    {"device": "cuda", "device_allow": ["/dev/../etc/shadow rw"]},
    {"device": "cuda", "device_allow": ["char-nvidia rwx"]},
])
def test_syscall_and_device_items_are_checked(kwargs):
    with pytest.raises(AnsibleFilterError):
        systemd_sandbox(["/h"], **kwargs)
