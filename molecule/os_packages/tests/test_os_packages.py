"""The runtime packages of an inference host are installed and actually work."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402


def test_cxx_compiler_builds_and_runs_a_program(host):
    # vLLM's CPU backend compiles kernels with torch inductor at start-up: g++ must work.
    src = "#include <iostream>\nint main(){std::cout<<\"ok\"<<std::endl;}\n"
    host.run_expect([0], f"printf '{src}' > /tmp/t.cpp")
    host.run_expect([0], "g++ -O1 -o /tmp/t /tmp/t.cpp")
    assert host.check_output("/tmp/t") == "ok"


def test_python_venv_and_headers(host):
    host.run_expect([0], "rm -rf /tmp/venv && python3 -m venv /tmp/venv")
    assert host.file("/tmp/venv/bin/pip").exists
    include = host.check_output("python3 -c 'import sysconfig; print(sysconfig.get_paths()[\"include\"])'")
    assert host.file(f"{include}/Python.h").exists


def test_numactl_curl_git(host):
    assert host.run("numactl --show").rc in (0, 1)  # 1: no NUMA policy syscall in some containers
    assert host.exists("numactl")
    assert "curl" in host.check_output("curl --version")
    assert host.check_output("git --version").startswith("git version")


def test_build_toolchain_not_installed_by_default(host):
    # os_packages_build_toolchain defaults to false: runtime hosts stay lean.
    assert not host.package("cmake").is_installed
    assert not host.package("ninja-build").is_installed


def test_check_mode_on_the_converged_host_changes_nothing():
    out, recap = run_playbook(str(Path(__file__).resolve().parents[1] / "converge.yml"), "--check", "--diff")
    assert recap and all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), out[-3000:]
