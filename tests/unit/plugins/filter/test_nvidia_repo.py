import pytest
from ansible_collections.inferops.inference.plugins.filter.nvidia_repo import NvidiaRepoError, nvidia_repo_path


@pytest.mark.parametrize("dist,version,family,arch,path", [
    ("Ubuntu", "22.04", "Debian", "x86_64", "ubuntu2204/x86_64"),
    ("Ubuntu", "24.04", "Debian", "aarch64", "ubuntu2404/sbsa"),
    ("Debian", "12", "Debian", "x86_64", "debian12/x86_64"),
    ("Debian", "12.7", "Debian", "x86_64", "debian12/x86_64"),
    ("RedHat", "9.4", "RedHat", "x86_64", "rhel9/x86_64"),
    ("Rocky", "8.10", "RedHat", "aarch64", "rhel8/sbsa"),
    ("Rocky", "10.0", "RedHat", "x86_64", "rhel10/x86_64"),
])
def test_paths(dist, version, family, arch, path):
    assert nvidia_repo_path(dist, version, family, arch) == path


@pytest.mark.parametrize("version", ["22.03", "24.03"])
def test_openeuler_never_becomes_rhel22_or_rhel24(version):
    with pytest.raises(NvidiaRepoError, match="no repository for openEuler: set nvidia_cuda_repo_url"):
        nvidia_repo_path("openEuler", version, "RedHat", "aarch64")


@pytest.mark.parametrize("dist,version,family,arch,message", [
    ("Ubuntu", "23.10", "Debian", "x86_64", "no CUDA repository for Ubuntu 23.10"),
    ("Rocky", "7.9", "RedHat", "x86_64", "no CUDA repository for Rocky 7.9"),
    ("Ubuntu", "24.04", "Debian", "ppc64le", "architecture ppc64le"),
    ("Archlinux", "rolling", "Archlinux", "x86_64", "cannot read a version"),
    ("Gentoo", "2.17", "Gentoo", "x86_64", "no NVIDIA CUDA repository is known for Gentoo"),
])
def test_unsupported(dist, version, family, arch, message):
    with pytest.raises(NvidiaRepoError, match=message):
        nvidia_repo_path(dist, version, family, arch)


def test_versions_compare_as_numbers_not_strings():
    # "9" > "10" as strings; rhel10 must still be recognised and rhel7 refused.
    assert nvidia_repo_path("AlmaLinux", "10", "RedHat", "x86_64") == "rhel10/x86_64"
