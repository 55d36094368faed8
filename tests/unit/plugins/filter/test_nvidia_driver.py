"""Driver package plans per distribution: these render the Ubuntu and openEuler paths the
lab cannot install (their archives are unreachable here)."""
import pytest
from ansible_collections.inferops.inference.plugins.filter.nvidia_driver import NvidiaDriverError, nvidia_driver_plan


def test_debian_12_non_free():
    plan = nvidia_driver_plan("Debian", "12", "distro", 535, open_modules=False, kernel="6.1.0-26-amd64")
    assert plan["mgr"] == "apt"
    assert plan["kernel"] == ["nvidia-kernel-dkms", "linux-headers-6.1.0-26-amd64"]
    assert plan["userspace"] == ["nvidia-smi", "libcuda1", "libnvidia-ml1", "nvidia-persistenced"]
    assert plan["fabricmanager"] == []


def test_debian_pins_the_exact_version():
    plan = nvidia_driver_plan("Debian", 12, "distro", 535, version="535.261.03")
    assert plan["userspace"][0] == "nvidia-smi=535.261.03-*"
    assert plan["kernel"][0] == "nvidia-open-kernel-dkms"


def test_debian_has_one_branch():
    with pytest.raises(NvidiaDriverError, match="Debian 12 ships driver branch 535 only"):
        nvidia_driver_plan("Debian", 12, "distro", 570)


def test_ubuntu_2404_precompiled_signed_modules():
    plan = nvidia_driver_plan("Ubuntu", "24.04", "distro", 570, open_modules=True, kernel="6.8.0-45-generic")
    assert plan["kernel"] == ["linux-modules-nvidia-570-server-open-generic"]
    assert plan["userspace"] == ["nvidia-headless-no-dkms-570-server-open", "nvidia-utils-570-server"]
    assert plan["fabricmanager"] == ["nvidia-fabricmanager-570"]


def test_ubuntu_dkms_and_fabricmanager_pinned_to_the_driver():
    plan = nvidia_driver_plan("Ubuntu", "22.04", "distro", 550, open_modules=False, version="550.90.12",
                              kernel="5.15.0-119-generic", precompiled=False)
    assert plan["kernel"] == ["nvidia-dkms-550-server", "linux-headers-5.15.0-119-generic"]
    assert plan["fabricmanager"] == ["nvidia-fabricmanager-550=550.90.12-*"]
    assert plan["userspace"][1] == "nvidia-utils-550-server=550.90.12-*"


def test_ubuntu_from_the_cuda_repo():
    plan = nvidia_driver_plan("Ubuntu", "24.04", "cuda_repo", 580, kernel="6.8.0-45-generic")
    assert plan["kernel"] == ["nvidia-dkms-580-open", "linux-headers-6.8.0-45-generic"]
    assert plan["userspace"] == ["nvidia-headless-no-dkms-580-open", "nvidia-utils-580"]


def test_openeuler_through_a_rhel_repository():
    plan = nvidia_driver_plan("openEuler", "24.03", "cuda_repo", 570, open_modules=True, version="570.124.06",
                              kernel="6.6.0-28.0.0.34.oe2403.aarch64")
    assert plan["mgr"] == "dnf"
    assert plan["kernel"] == ["@nvidia-driver:570-open", "kernel-devel-6.6.0-28.0.0.34.oe2403.aarch64", "dkms"]
    assert plan["fabricmanager"] == ["nvidia-fabric-manager-570.124.06"]


def test_openeuler_has_no_distro_driver():
    with pytest.raises(NvidiaDriverError, match="use cuda_repo .*RHEL 9 mirror"):
        nvidia_driver_plan("openEuler", "22.03", "distro", 535)


def test_version_must_belong_to_the_branch():
    with pytest.raises(NvidiaDriverError, match="550.90.12 is not of nvidia_driver_branch 570"):
        nvidia_driver_plan("Ubuntu", "24.04", "distro", 570, version="550.90.12")
