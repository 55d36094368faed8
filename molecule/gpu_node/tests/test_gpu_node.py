"""GPU host steps that can run in a container, checked on the converged lab host."""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
PROFILE = SCENARIO.parents[1] / "inventories" / "prod" / "group_vars" / "gpu_h800x8.yml"
VENV = "/opt/inferops/vllm/current"


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


def _yaml(path):
    import yaml
    return yaml.safe_load(Path(path).read_text())


def test_cuda_vllm_and_the_chosen_torch_import_without_a_gpu(host):
    out = host.check_output(
        f"{VENV}/bin/python -c 'import json, torch, vllm; "
        "print(json.dumps([vllm.__version__, torch.__version__, torch.version.cuda, torch.cuda.is_available()]))'")
    vllm, torch, cuda, available = json.loads(out.splitlines()[-1])
    # vllm_install chose PyPI's torch 2.6.0 for the declared driver 550.90.12: a CUDA 12.4 build.
    assert vllm == "0.8.5.post1" and torch == "2.6.0+cu124" and cuda == "12.4" and available is False
    assert host.file("/opt/inferops/vllm/venvs/0.8.5.post1-pypi").is_directory
    size = host.check_output("du -sm /opt/inferops/vllm/venvs/0.8.5.post1-pypi | cut -f1")
    print(f"GPU venv: {int(size) / 1024:.1f} GiB (vLLM 0.8.5.post1, torch 2.6.0+cu124 and NVIDIA's CUDA 12.4 wheels)")


def test_unit_carries_the_h800x8_profile():
    converge = _yaml(SCENARIO / "converge.yml")[0]["vars"]
    profile = _yaml(PROFILE)
    served = {k: v for k, v in profile.items() if k.startswith("vllm_service_") and k != "vllm_service_served_model_name"}
    # The scenario's flags are the profile's, not a copy that drifted.
    assert {k: converge[k] for k in served} == served
    assert converge["vllm_install_version"] == profile["vllm_install_version"]
    assert converge["vllm_install_torch_release"] == profile["vllm_install_torch_release"]


def test_unit_flags(host):
    # The command line as systemd parsed it from the unit.
    shown = host.check_output("systemctl show vllm -p ExecStart --value")
    args = shlex.split(shown.split("argv[]=", 1)[1].split(" ;", 1)[0])
    pairs = {args[i]: args[i + 1] for i in range(len(args) - 1)}
    assert pairs["--tensor-parallel-size"] == "8"
    assert pairs["--max-model-len"] == "8192" and pairs["--quantization"] == "awq_marlin"
    assert pairs["--gpu-memory-utilization"] == "0.92" and pairs["--max-num-seqs"] == "32"
    assert pairs["--reasoning-parser"] == "deepseek_r1"
    for flag in ("--enable-prefix-caching", "--trust-remote-code", "--enable-reasoning"):
        assert flag in args, args


def test_service_is_enabled_for_boot_but_not_started(host):
    service = host.service("vllm")
    assert service.is_enabled
    assert not service.is_running
    assert host.run("systemctl is-active vllm").stdout.strip() == "inactive"


def test_target_driver_too_old_for_the_chosen_cuda_is_refused_before_any_change():
    out, recap = run_playbook(str(SCENARIO / "converge.yml"), "-e", "gpu_facts_target_driver=535.104.05",
                              expect_ok=False)
    assert "PyPI's torch 2.6 is a CUDA 12.4 build, which needs NVIDIA driver >= 550.54.14; " \
           "the target driver is 535.104.05" in out, out[-3000:]
    assert recap and all(r["changed"] == 0 for r in recap.values()), out[-3000:]
