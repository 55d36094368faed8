"""The wheel compiled on the first host, taken from the wheel store by the second, compiled
again from the first host's offline bundle by a third host with no network; all serving."""
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import (  # noqa: E402
    assert_check_mode_changes_nothing, assert_loopback_only, assert_never_reached_outside,
    assert_requests_outside_fail_and_count, assert_serves_tiny_model, lab_host)

SCENARIO = Path(__file__).resolve().parents[1]
VENV = "/opt/inferops/vllm/current"
KEY = "vllm-0.32.0-cpu-x86_64-py3.13-torch2.13.0-patched-8a51fce2"
LOG = f"/opt/inferops/vllm/cache/logs/build-{KEY}.log"
API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
BUILDER, FOLLOWER = lab_host("inferops-build-1"), lab_host("inferops-build-2")
OFFLINE = lab_host("inferops-build-offline")
BUNDLE = Path(os.environ["LAB_DIR"]) / "bundles-source" / "source-cpu_node"
ONEDNN = ["onednn/onednn_3.7.2+ds-2.dsc", "onednn/onednn_3.7.2+ds-2.debian.tar.xz", "onednn/onednn_3.7.2+ds.orig.tar.xz"]


def record(host):
    return json.loads(host.check_output(f"cat {VENV}/.inferops-wheel.json"))


def test_builder_compiled_the_wheel_offline_and_kept_its_log():
    rec = record(BUILDER)
    assert rec["origin"] == "built here" and rec["key"] == KEY
    assert re.fullmatch(r"vllm-0\.32\.0\+cpu-cp313-cp313-linux_x86_64\.whl", rec["wheel"]), rec
    log = BUILDER.check_output(f"cat {LOG}")
    # oneDNN came from the Debian source package, and CMake was told not to fetch anything.
    assert "Using oneDNN from specified source directory: /opt/inferops/vllm/cache/src/onednn" in log
    assert "build finished" in log
    cache = BUILDER.check_output("cat /opt/inferops/vllm/cache/src/vllm-0.32.0/build/temp.linux-x86_64-cpython-313/CMakeCache.txt")
    assert "FETCHCONTENT_FULLY_DISCONNECTED:BOOL=ON" in cache
    times = re.findall(r"build (?:started|finished) (\S+)", log)
    minutes = (datetime.fromisoformat(times[1].rstrip("Z")) - datetime.fromisoformat(times[0].rstrip("Z"))).total_seconds() / 60
    print(f"source build: {minutes:.1f} min, wheel {int(rec['size']) / 1e6:.0f} MB ({rec['wheel']})")


def test_second_host_installed_the_stored_wheel_without_compiling():
    rec, built = record(FOLLOWER), record(BUILDER)
    assert rec["origin"] == "wheel store", rec
    assert rec["sha256"] == built["sha256"]
    # Nothing was unpacked, configured or compiled there.
    assert not FOLLOWER.file(LOG).exists
    assert not FOLLOWER.file("/opt/inferops/vllm/cache/src/vllm-0.32.0").exists
    assert not FOLLOWER.file("/opt/inferops/vllm/cache/src/onednn").exists
    assert not FOLLOWER.package("cmake").is_installed


def test_the_bundle_carries_the_sources_and_the_build_requirements():
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    vllm = manifest["vllm"]
    assert vllm["method"] == "source" and vllm["version"] == "0.32.0", vllm
    assert set(vllm["sources"]) >= {"vllm/vllm-0.32.0.tar.gz", *ONEDNN}, vllm["sources"]
    files = set(manifest["files"])
    assert {f"wheels/sources/{name}" for name in vllm["sources"]} <= files
    lock = (BUNDLE / "wheels" / "requirements.lock").read_text()
    # The build's own requirements, and the CUDA toolkit wheels PyPI's torch (CUDA 13) makes
    # its CMake files want.
    for name in ("cmake==", "ninja==", "setuptools-scm==", "nvidia-cuda-nvcc==", "nvidia-nvvm==", "torch==2.13.0"):
        assert re.search(rf"^{re.escape(name)}", lock, re.M), name


def test_offline_host_has_no_network_and_never_reached_outside():
    assert_loopback_only(OFFLINE)
    assert_never_reached_outside(OFFLINE)
    assert_requests_outside_fail_and_count(
        OFFLINE, ["https://pypi.org/simple/", "http://deb.debian.org/debian/", "https://github.com/"])


def test_offline_host_compiled_from_the_bundle_sources():
    rec = record(OFFLINE)
    assert rec["origin"] == "built here" and rec["key"] == KEY, rec
    log = OFFLINE.check_output(f"cat {LOG}")
    assert "Using oneDNN from specified source directory: /opt/inferops/vllm/cache/src/onednn" in log
    assert "build finished" in log
    # The sources were read where the bundle holds them: nothing was downloaded.
    assert not OFFLINE.file("/opt/inferops/vllm/cache/src/downloads").exists
    assert OFFLINE.file("/opt/inferops/vllm/cache/src/onednn/include/oneapi/dnnl/dnnl.h").exists
    times = re.findall(r"build (?:started|finished) (\S+)", log)
    minutes = (datetime.fromisoformat(times[1].rstrip("Z")) - datetime.fromisoformat(times[0].rstrip("Z"))).total_seconds() / 60
    print(f"offline source build: {minutes:.1f} min")


def test_built_vllm_imports_its_cpu_kernels():
    for host in (BUILDER, FOLLOWER, OFFLINE):
        out = host.check_output(
            f"{VENV}/bin/python -c 'import vllm, vllm._C, torch; from vllm.platforms import current_platform as p; "
            "print(vllm.__version__, p.device_type, torch.__version__)'")
        version, device, torch = out.split()[-3:]
        assert version.startswith("0.32.0") and device == "cpu" and torch.startswith("2.13.0"), out


def test_all_hosts_serve_the_tiny_model_from_the_built_wheel():
    for host in (BUILDER, FOLLOWER, OFFLINE):
        assert_serves_tiny_model(host, API_KEY)


def test_check_mode_on_the_converged_hosts_changes_nothing():
    assert_check_mode_changes_nothing(SCENARIO / "converge.yml")
