"""Parse nvidia-smi output into GPU facts (pure functions, unit tested with real captures)."""

from __future__ import annotations

import csv
import io
import os
import re

_HEADER = re.compile(r"Driver Version:\s*([0-9.]+)\s+CUDA Version:\s*([0-9.]+)")
# One GPU row of the classic screen: "|   0  NVIDIA H800    Off |   00000000:18:00.0 Off |"
_SCREEN_GPU = re.compile(r"^\|\s+(\d+)\s+(.+?)\s+(On|Off)\s+\|\s+([0-9A-Fa-f:.]+)\s")
_SCREEN_MEM = re.compile(r"(\d+)MiB\s*/\s*(\d+)MiB")
_UNIT = re.compile(r"\s*\[[^\]]*\]$")


def _number(text):
    """'81559 MiB' -> 81559; '[N/A]' or '' -> None."""
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)", text or "")
    if not match:
        return None
    value = float(match.group(1))
    return int(value) if value.is_integer() else value


def parse_header(screen):
    """Driver and maximum CUDA version from the banner of plain `nvidia-smi`."""
    match = _HEADER.search(screen or "")
    if not match:
        return None, None
    return match.group(1), match.group(2)


def parse_query_csv(text):
    """Rows of `nvidia-smi --query-gpu=... --format=csv` (with its header line) as dicts.

    Field names lose their unit suffix ("memory.total [MiB]" -> "memory.total").
    """
    rows = list(csv.reader(io.StringIO(text.strip()), skipinitialspace=True))
    if not rows:
        return []
    header = [_UNIT.sub("", name.strip()) for name in rows[0]]
    gpus = []
    for row in rows[1:]:
        if not row or len(row) != len(header):
            continue
        gpus.append(dict(zip(header, (value.strip() for value in row))))
    return gpus


def parse_screen(screen):
    """GPUs from the classic nvidia-smi screen (what runbooks paste, e.g. seed 004)."""
    gpus = []
    lines = (screen or "").splitlines()
    for number, line in enumerate(lines):
        match = _SCREEN_GPU.match(line)
        if not match:
            continue
        gpu = {"index": match.group(1), "name": match.group(2).strip(), "pci.bus_id": match.group(4)}
        if number + 1 < len(lines):
            mem = _SCREEN_MEM.search(lines[number + 1])
            if mem:
                gpu["memory.used"], gpu["memory.total"] = mem.group(1), mem.group(2)
        gpus.append(gpu)
    return gpus


def gpu_facts(rows, driver_version=None, cuda_version=None, nvswitch_count=0):
    """Normalise parsed rows into the facts the roles use."""
    gpus = []
    for row in rows:
        gpus.append({
            "index": int(row["index"]) if str(row.get("index", "")).isdigit() else len(gpus),
            "name": row.get("name", ""),
            "uuid": row.get("uuid") or None,
            "pci_bus_id": row.get("pci.bus_id") or None,
            "memory_total_mib": _number(row.get("memory.total")),
            "memory_used_mib": _number(row.get("memory.used")),
            "compute_capability": row.get("compute_cap") if _number(row.get("compute_cap")) is not None else None,
        })
        driver_version = driver_version or row.get("driver_version") or None
    memory = [g["memory_total_mib"] for g in gpus if g["memory_total_mib"]]
    return {
        "present": bool(gpus),
        "count": len(gpus),
        "driver_version": driver_version,
        "driver_branch": int(driver_version.split(".")[0]) if driver_version else None,
        "cuda_version": cuda_version,
        "names": sorted({g["name"] for g in gpus}),
        "memory_total_mib": sum(memory),
        "memory_min_mib": min(memory) if memory else 0,
        "nvswitch": nvswitch_count > 0,
        "nvswitch_count": nvswitch_count,
        "gpus": gpus,
    }


NVIDIA_VENDOR = "0x10de"
NVSWITCH_CLASS_PREFIX = "0x0680"  # PCI class "bridge, other": how NVSwitch chips enumerate


def count_nvswitch_pci(pci_dir):
    """Count NVSwitch chips in a sysfs PCI tree (works before any driver is installed)."""
    count = 0
    try:
        devices = os.listdir(pci_dir)
    except OSError:
        return 0
    for device in devices:
        try:
            with open(os.path.join(pci_dir, device, "vendor"), encoding="ascii") as handle:
                vendor = handle.read().strip()
            with open(os.path.join(pci_dir, device, "class"), encoding="ascii") as handle:
                klass = handle.read().strip()
        except OSError:
            continue
        if vendor == NVIDIA_VENDOR and klass.startswith(NVSWITCH_CLASS_PREFIX):
            count += 1
    return count
