"""GPU host steps that can run in a container, checked on the converged lab host."""
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]


def test_nvcc_compiles_cuda_code(host):
    assert "release 11.8" in host.check_output("nvcc --version")
    host.run_expect([0], "printf '__global__ void k(float *x){x[threadIdx.x]*=2;}\\nint main(){return 0;}\\n' > /root/k.cu")
    host.run_expect([0], "cd /root && nvcc -o k k.cu")
    assert host.file("/root/k").exists


def test_cuda_environment_profile(host):
    assert host.check_output("bash -lc 'echo $CUDA_HOME'") == "/usr/lib/cuda"
    assert "/usr/lib/cuda/bin" in host.check_output("bash -lc 'echo $PATH'")


def test_driver_userspace_installed_and_held_kernel_steps_skipped(host):
    assert host.package("nvidia-smi").is_installed
    assert host.package("libcuda1").is_installed
    assert host.package("nvidia-smi").version.startswith("535.")
    held = host.check_output("apt-mark showhold").split()
    assert "nvidia-smi" in held and "libcuda1" in held
    # The container was detected: no DKMS module build, no nouveau blacklist, no reboot.
    assert not host.package("nvidia-kernel-dkms").is_installed
    assert not host.package("nvidia-open-kernel-dkms").is_installed
    assert not host.file("/etc/modprobe.d/blacklist-nouveau.conf").exists


# What Debian's real nvidia-smi prints in a container without a loaded driver; both were seen
# in this lab, depending on which driver libraries are installed.
NO_DRIVER = ("couldn't communicate with the NVIDIA driver", "Failed to initialize NVML")


def test_real_nvidia_smi_reports_no_driver(host):
    result = host.run("nvidia-smi")
    assert result.rc != 0
    assert any(text in result.stdout + result.stderr for text in NO_DRIVER), result.stdout + result.stderr


def test_gpu_facts_module_on_the_real_nvidia_smi():
    proc = subprocess.run(["ansible", "all", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                           "-m", "inferops.inference.nvidia_gpu_facts", "-o"],
                          capture_output=True, text=True, check=True)
    facts = json.loads(proc.stdout.split("=>", 1)[1])["ansible_facts"]["nvidia_gpu"]
    assert facts["present"] is False and facts["count"] == 0
    assert any(text in facts["error"] for text in NO_DRIVER), facts["error"]


def test_check_mode_on_the_converged_host_changes_nothing():
    out, recap = run_playbook(str(SCENARIO / "converge.yml"), "--check", "--diff")
    assert recap and all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]


def test_cuda_newer_than_the_driver_fails_before_any_change():
    # CUDA 13 needs driver >= 580; this host's driver packages are 535.
    out, recap = run_playbook(str(SCENARIO / "converge.yml"), "-e", "cuda_toolkit_source=cuda_repo",
                              "-e", "cuda_toolkit_version=13.0", expect_ok=False)
    assert "CUDA 13.0 needs NVIDIA driver >= 580.65.06; this host has 535.261.03" in out, out[-3000:]
    assert recap and all(r["changed"] == 0 for r in recap.values()), out[-3000:]
