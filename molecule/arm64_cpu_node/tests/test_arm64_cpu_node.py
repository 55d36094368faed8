"""The aarch64 host (under emulation) serves the tiny model with the Kunpeng profile's settings."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import assert_check_mode_changes_nothing, assert_serves_tiny_model, curl  # noqa: E402

API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
VENV = "/opt/inferops/vllm/current"
SCENARIO = Path(__file__).resolve().parents[1]


def test_host_is_aarch64_and_looks_like_a_kunpeng_920(host):
    assert host.check_output("uname -m") == "aarch64"
    assert "CPU part\t: 0xd01" in host.file("/proc/cpuinfo").content_string


def test_prebuilt_aarch64_wheel_and_cpu_torch_from_pypi(host):
    out = host.check_output(
        f"{VENV}/bin/python -c 'import vllm, torch, platform; "
        "print(vllm.__version__, torch.__version__, torch.version.cuda, platform.machine())'")
    vllm, torch, cuda, machine = out.split()[-4:]
    assert vllm.startswith("0.13.0") and torch == "2.9.1+cpu" and cuda == "None" and machine == "aarch64", out
    assert host.file("/opt/inferops/vllm/venvs/0.13.0-pypi/.inferops-install.json").exists


def test_unit_preloads_tcmalloc_and_binds_openmp(host):
    unit = host.file("/etc/systemd/system/vllm.service").content_string
    assert "LD_PRELOAD=/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4" in unit
    assert "VLLM_CPU_OMP_THREADS_BIND=0-1" in unit
    assert "--enforce-eager" in unit
    pid = host.check_output("systemctl show -p MainPID --value vllm")
    maps = host.check_output(f"cat /proc/{pid}/maps")
    assert "libtcmalloc_minimal.so.4" in maps


def test_serves_with_the_key_and_refuses_without(host):
    assert curl(host, "/health")[0] == 200
    assert_serves_tiny_model(host, API_KEY)


def test_check_mode_on_the_converged_host_changes_nothing():
    assert_check_mode_changes_nothing(SCENARIO / "converge.yml")
