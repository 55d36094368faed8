#!/usr/bin/python
"""Gather NVIDIA GPU facts from nvidia-smi (read-only, safe in check mode)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: nvidia_gpu_facts
short_description: Report NVIDIA GPUs, driver and CUDA version from nvidia-smi
description:
  - Runs C(nvidia-smi) (its banner for the driver's CUDA version, and C(--query-gpu) for each
    GPU) and looks for NVSwitch devices, then sets the fact C(nvidia_gpu).
  - On hosts without nvidia-smi, or where it cannot talk to a driver (no GPU, containers,
    driver not loaded yet), the fact says C(present=false) and the module does not fail.
  - Read-only; runs the same in check mode.
version_added: "0.1.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
options:
  nvidia_smi:
    description: Name or path of nvidia-smi.
    type: str
    default: nvidia-smi
  nvswitch_dir:
    description: Directory listing NVSwitch devices once the driver is loaded (HGX/DGX systems).
    type: path
    default: /proc/driver/nvidia-nvswitch/devices
  pci_dir:
    description: sysfs PCI devices, scanned for NVSwitch chips (vendor 0x10de, class 0x0680) so
      that NVSwitch systems are recognised before any driver is installed.
    type: path
    default: /sys/bus/pci/devices
attributes:
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Gather GPU facts
  inferops.inference.nvidia_gpu_facts:

- name: Show them
  ansible.builtin.debug:
    msg: "{{ nvidia_gpu.count }} x {{ nvidia_gpu.names }} (driver {{ nvidia_gpu.driver_version }}, CUDA {{ nvidia_gpu.cuda_version }})"
"""

RETURN = r"""
ansible_facts:
  description: Facts set.
  returned: always
  type: dict
  contains:
    nvidia_gpu:
      description: present, count, driver_version, driver_branch, cuda_version, names, memory_total_mib,
        memory_min_mib, nvswitch, nvswitch_count, gpus (index, name, uuid, pci_bus_id, memory_total_mib,
        memory_used_mib, compute_capability), error.
      type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.inferops.inference.plugins.module_utils.nvidia_smi import (
    count_nvswitch_pci,
    gpu_facts,
    parse_header,
    parse_query_csv,
)

QUERY_FIELDS = ["index", "name", "uuid", "pci.bus_id", "memory.total", "memory.used", "driver_version", "compute_cap"]


def _nvswitch_count(proc_dir, pci_dir):
    try:
        loaded = len([entry for entry in os.listdir(proc_dir) if not entry.startswith(".")])
    except OSError:
        loaded = 0
    return max(loaded, count_nvswitch_pci(pci_dir))


def main():
    module = AnsibleModule(
        argument_spec={
            "nvidia_smi": {"type": "str", "default": "nvidia-smi"},
            "nvswitch_dir": {"type": "path", "default": "/proc/driver/nvidia-nvswitch/devices"},
            "pci_dir": {"type": "path", "default": "/sys/bus/pci/devices"},
        },
        supports_check_mode=True,
    )
    nvswitch = _nvswitch_count(module.params["nvswitch_dir"], module.params["pci_dir"])
    smi = module.get_bin_path(module.params["nvidia_smi"])
    if not smi:
        facts = gpu_facts([], nvswitch_count=nvswitch)
        facts["error"] = "nvidia-smi not found"
        module.exit_json(changed=False, ansible_facts={"nvidia_gpu": facts})

    rc, banner, err = module.run_command([smi])
    if rc != 0:
        facts = gpu_facts([], nvswitch_count=nvswitch)
        facts["error"] = (banner + err).strip().splitlines()[0] if (banner + err).strip() else f"nvidia-smi exited {rc}"
        module.exit_json(changed=False, ansible_facts={"nvidia_gpu": facts})
    driver, cuda = parse_header(banner)

    fields = list(QUERY_FIELDS)
    rc, out, err = module.run_command([smi, "--query-gpu=" + ",".join(fields), "--format=csv"])
    if rc != 0 and "compute_cap" in (out + err):
        # Drivers before R510 do not know the compute_cap field.
        fields.remove("compute_cap")
        rc, out, err = module.run_command([smi, "--query-gpu=" + ",".join(fields), "--format=csv"])
    if rc != 0:
        module.fail_json(msg=f"nvidia-smi --query-gpu failed: {(out + err).strip()}")

    facts = gpu_facts(parse_query_csv(out), driver_version=driver, cuda_version=cuda, nvswitch_count=nvswitch)
    facts["error"] = None
    module.exit_json(changed=False, ansible_facts={"nvidia_gpu": facts})


if __name__ == "__main__":
    main()
