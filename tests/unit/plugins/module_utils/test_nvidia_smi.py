"""nvidia-smi parsing against real captured output (fixtures/README.md), and the nvidia_gpu_facts module."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from ansible_collections.inferops.inference.plugins.module_utils.nvidia_smi import (
    count_nvswitch_pci, gpu_facts, parse_header, parse_query_csv, parse_screen)

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[4]
H800 = (FIX / "nvidia-smi-8xH800-550.90.12.txt").read_text()


def test_seed_004_screen_8x_h800():
    driver, cuda = parse_header(H800)
    assert (driver, cuda) == ("550.90.12", "12.4")
    facts = gpu_facts(parse_screen(H800), driver, cuda)
    assert facts["count"] == 8
    assert facts["names"] == ["NVIDIA H800"]
    assert facts["memory_total_mib"] == 8 * 81559 and facts["memory_min_mib"] == 81559
    assert facts["driver_branch"] == 550
    assert [g["pci_bus_id"] for g in facts["gpus"]][:2] == ["00000000:18:00.0", "00000000:3A:00.0"]
    assert facts["gpus"][0]["memory_used_mib"] == 4


def test_query_csv_8x_l40s():
    rows = parse_query_csv((FIX / "query-8xL40S-580.178.04.csv").read_text())
    facts = gpu_facts(rows)
    assert facts["count"] == 8 and facts["driver_version"] == "580.178.04" and facts["driver_branch"] == 580
    assert facts["gpus"][7] == {
        "index": 7, "name": "NVIDIA L40S", "uuid": None, "pci_bus_id": "00000000:E4:00.0",
        "memory_total_mib": 46068, "memory_used_mib": None, "compute_capability": None,
    }


def test_query_csv_with_compute_capability():
    facts = gpu_facts(parse_query_csv((FIX / "query-2x3090-580.126.09.csv").read_text()))
    assert facts["count"] == 2
    assert {g["compute_capability"] for g in facts["gpus"]} == {"8.6"}
    assert facts["memory_total_mib"] == 2 * 24576


def test_no_gpu_gives_clean_facts():
    facts = gpu_facts([], nvswitch_count=0)
    assert facts["present"] is False and facts["count"] == 0 and facts["memory_total_mib"] == 0
    assert facts["driver_version"] is None and facts["nvswitch"] is False


def test_not_available_fields_are_none():
    rows = parse_query_csv("index, name, memory.total [MiB], compute_cap\n0, Tesla T4, [N/A], [N/A]\n")
    gpu = gpu_facts(rows)["gpus"][0]
    assert gpu["memory_total_mib"] is None and gpu["compute_capability"] is None


def _run_module(tmp_path, smi_script, nvswitch_entries=0):
    """Run the real module file as Ansible would run it, with nvidia-smi replaced by a script
    that prints captured output (no GPU is reachable from the lab machines)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    smi = bindir / "nvidia-smi"
    smi.write_text(smi_script)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    nvs = tmp_path / "nvswitch"
    nvs.mkdir()
    for i in range(nvswitch_entries):
        (nvs / str(i)).mkdir()
    args = tmp_path / "args.json"
    module_args = {"nvidia_smi": str(smi), "nvswitch_dir": str(nvs), "pci_dir": str(tmp_path / "nopci")}
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    env = dict(os.environ, PYTHONPATH=str(ROOT / ".lab" / "collections"))
    proc = subprocess.run([sys.executable, str(ROOT / "plugins" / "modules" / "nvidia_gpu_facts.py"), str(args)],
                          capture_output=True, text=True, env=env, check=False)
    return json.loads(proc.stdout)


def test_module_on_an_hgx_box(tmp_path):
    csv = "index, name, uuid, pci.bus_id, memory.total [MiB], memory.used [MiB], driver_version, compute_cap\\n"
    csv += "".join(f"{i}, NVIDIA H800, GPU-{i}, 00000000:{i:02X}:00.0, 81559 MiB, 4 MiB, 550.90.12, 9.0\\n" for i in range(8))
    script = f"""#!/bin/sh
case "$1" in
  --query-gpu=*) printf '{csv}' ;;
  *) cat '{FIX / "nvidia-smi-8xH800-550.90.12.txt"}' ;;
esac
"""
    result = _run_module(tmp_path, script, nvswitch_entries=4)
    facts = result["ansible_facts"]["nvidia_gpu"]
    assert result["changed"] is False
    assert (facts["count"], facts["cuda_version"], facts["driver_version"]) == (8, "12.4", "550.90.12")
    assert facts["nvswitch"] is True and facts["nvswitch_count"] == 4
    assert facts["gpus"][0]["compute_capability"] == "9.0"


def test_module_retries_without_compute_cap_on_old_drivers(tmp_path):
    script = """#!/bin/sh
case "$1" in
  --query-gpu=*compute_cap*) echo 'Field "compute_cap" is not a valid field to query.'; exit 2 ;;
  --query-gpu=*) printf 'index, name, memory.total [MiB], driver_version\\n0, Tesla T4, 15109 MiB, 470.82.01\\n' ;;
  *) echo '| NVIDIA-SMI 470.82.01    Driver Version: 470.82.01    CUDA Version: 11.4     |' ;;
esac
"""
    facts = _run_module(tmp_path, script)["ansible_facts"]["nvidia_gpu"]
    assert facts["count"] == 1 and facts["cuda_version"] == "11.4" and facts["gpus"][0]["name"] == "Tesla T4"


def test_module_without_a_driver(tmp_path):
    # What Debian's real nvidia-smi package prints in a container without a driver.
    script = """#!/bin/sh
echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
exit 9
"""
    facts = _run_module(tmp_path, script)["ansible_facts"]["nvidia_gpu"]
    assert facts["present"] is False and facts["count"] == 0
    assert "couldn't communicate" in facts["error"]


def test_nvswitch_found_on_pci_before_any_driver(tmp_path):
    def device(name, vendor, klass):
        (tmp_path / name).mkdir()
        (tmp_path / name / "vendor").write_text(vendor + "\n")
        (tmp_path / name / "class").write_text(klass + "\n")

    for i in range(4):
        device(f"0000:0{i}:00.0", "0x10de", "0x068000")  # NVSwitch
    device("0000:18:00.0", "0x10de", "0x030200")  # an H800 (3D controller)
    device("0000:00:1f.0", "0x8086", "0x068000")  # an Intel bridge of the same class
    assert count_nvswitch_pci(tmp_path) == 4
    assert count_nvswitch_pci(tmp_path / "missing") == 0


def test_module_when_nvml_cannot_initialise(tmp_path):
    # Debian's nvidia-smi in a container with the driver libraries but no kernel module.
    script = """#!/bin/sh
echo "Failed to initialize NVML: Unknown Error"
exit 255
"""
    facts = _run_module(tmp_path, script)["ansible_facts"]["nvidia_gpu"]
    assert facts["present"] is False and facts["error"] == "Failed to initialize NVML: Unknown Error"
