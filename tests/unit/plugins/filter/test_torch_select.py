"""Torch variant selection: a table of driver / CUDA / arch / Python cases."""
import pytest
from ansible_collections.inferops.inference.plugins.filter.torch_select import TorchSelectError, cuda_min_driver, driver_supports_cuda, torch_select


@pytest.mark.parametrize("driver,torch,arch,kwargs,variant", [
    # Seed 004's 8x H800: driver 550.90.12 (CUDA 12.4).
    ("550.90.12", "2.6.0", "x86_64", {}, "cu124"),
    # The trap seed 000 warns about: torch 2.7 has no 12.4 build; 12.6/12.8 need a newer driver.
    ("550.90.12", "2.7.1", "x86_64", {}, "cu118"),
    ("550.90.12", "2.7.1", "x86_64", {"minor_version_compat": True}, "cu128"),
    # The 8x L40S capture (580.178.04) and the 3090 capture (580.126.09).
    ("580.178.04", "2.9.0", "x86_64", {}, "cu130"),
    ("580.126.09", "2.8.0", "x86_64", {}, "cu129"),
    # Seed 001: CUDA 12.8.1 with driver 570.124.06 on 4x A100.
    ("570.124.06", "2.8.0", "x86_64", {}, "cu128"),
    ("570.124.06", "2.8.0", "x86_64", {"cuda": "12.6"}, "cu126"),
    # Kunpeng with NVIDIA (seed 000 method two) on aarch64.
    ("570.124.06", "2.7.0", "aarch64", {}, "cu128"),
    ("560.35.03", "2.9.0", "arm64", {}, "cu126"),
    # No driver: the CPU build.
    (None, "2.9.0", "x86_64", {}, "cpu"),
    ("", "2.6.0", "aarch64", {}, "cpu"),
    ("550.90.12", "2.9.0", "x86_64", {"cuda": "cpu"}, "cpu"),
])
def test_selection(driver, torch, arch, kwargs, variant):
    got = torch_select(driver, torch, arch, "3.11", **kwargs)
    assert got["variant"] == variant
    assert got["index_url"] == f"https://download.pytorch.org/whl/{variant}"
    assert got["torch_version"] == torch


def test_index_base_for_mirrors():
    got = torch_select("550.90.12", "2.6.0", index_base="http://mirror.internal/pytorch/whl/")
    assert got["index_url"] == "http://mirror.internal/pytorch/whl/cu124" and got["cuda"] == "12.4"


@pytest.mark.parametrize("args,kwargs,message", [
    (("535.183.01", "2.8.0"), {}, r"driver 535.183.01 is too old for every CUDA build of torch 2.8 .* needs >= 560.28.03"),
    (("550.90.12", "2.7.0"), {"cuda": "12.4"}, r"torch 2.7 has no CUDA 12.4 build for x86_64; it has 11.8, 12.6, 12.8"),
    (("550.90.12", "2.8.0"), {"cuda": "12.9"}, r"CUDA 12.9 needs NVIDIA driver >= 575.51.03; this host has 550.90.12"),
    (("570.124.06", "2.6.0", "aarch64"), {}, r"torch 2.6 has no CUDA wheels for aarch64"),
    (("570.124.06", "2.9.0", "x86_64", "3.9"), {}, r"torch 2.9 supports Python 3.10 to 3.14; this host has 3.9"),
    (("570.124.06", "2.13.0"), {}, r"torch 2.13.0 is not in the variant table .* vllm_install_torch_matrix"),
    ((None, "2.8.0"), {"cuda": "12.8"}, r"no NVIDIA driver was found"),
    (("570.124.06", "latest"), {}, r"is not a version"),
    (("570.124.06", "2.8.0", "ppc64le"), {}, r"no torch wheels for architecture ppc64le"),
])
def test_impossible_combinations_say_why(args, kwargs, message):
    with pytest.raises(TorchSelectError, match=message):
        torch_select(*args, **kwargs)


def test_minor_version_compat_still_needs_the_major_minimum():
    with pytest.raises(TorchSelectError, match="needs >= 525.60.13"):
        torch_select("515.65.01", "2.8.0", minor_version_compat=True)


def test_matrix_extends_the_table():
    matrix = {"2.13": {"x86_64": ["cu126", "cu130"], "aarch64": ["cu130"], "python": ["3.10", "3.14"]}}
    assert torch_select("580.65.06", "2.13.0", matrix=matrix)["variant"] == "cu130"
    assert torch_select("560.28.03", "2.13.0", matrix=matrix)["variant"] == "cu126"


@pytest.mark.parametrize("driver,cuda,ok", [
    ("535.261.03", "11.8", True),     # Debian 12: driver 535, toolkit 11.8 (the gpu_node scenario)
    ("449.99", "11.8", False),
    ("450.80.02", "11.2", True),
    ("550.90.12", "12.8", True),      # minor-version compatibility within 12.x
    ("525.60.12", "12.0", False),
    ("575.57.08", "13.0", False),     # 13.x needs >= 580
    ("580.65.06", "13.0", True),
    ("1000.1", "12.4", True),         # numbers, not strings: "1000" < "525" as text
])
def test_driver_supports_cuda(driver, cuda, ok):
    assert driver_supports_cuda(driver, cuda) is ok


def test_cuda_min_driver_unknown_major():
    assert cuda_min_driver("12.8") == "525.60.13"
    with pytest.raises(TorchSelectError, match="unknown major"):
        cuda_min_driver("10.2")


# PyPI's own builds (the lab's only CUDA torch): one CUDA release each, checked like the rest.
@pytest.mark.parametrize("driver,torch,cuda", [
    ("550.90.12", "2.6.0", "12.4"),   # seed 004's H800 driver
    ("570.124.06", "2.8.0", "12.8"),
    ("580.65.06", "2.13.0", "13.0"),
])
def test_pypi_build_carries_one_cuda_release(driver, torch, cuda):
    got = torch_select(driver, torch, "x86_64", "3.11", source="pypi")
    assert got == {"variant": "pypi", "cuda": cuda, "torch_version": torch, "index_url": "",
                   "reason": f"PyPI's torch {torch.rsplit('.', 1)[0]} (CUDA {cuda}); driver {driver} supports it"}


@pytest.mark.parametrize("driver,torch,message", [
    ("535.54.03", "2.6.0", "CUDA 12.4 build, which needs NVIDIA driver >= 550.54.14; the target driver is 535.54.03"),
    ("550.90.12", "2.8.0", "CUDA 12.8 build, which needs NVIDIA driver >= 570.26"),
    ("550.90.12", "2.4.0", "torch 2.4.0 is not in the variant table"),
])
def test_pypi_build_too_new_for_the_driver_is_refused(driver, torch, message):
    with pytest.raises(TorchSelectError, match=message.replace("(", r"\(").replace(".", r"\.")):
        torch_select(driver, torch, "x86_64", "3.11", source="pypi")


def test_pypi_selection_honours_compat_and_matrix_and_refuses_other_sources():
    assert torch_select("550.90.12", "2.8.0", "x86_64", "3.11", source="pypi", minor_version_compat=True)["cuda"] == "12.8"
    assert torch_select("600.1", "2.14.0", "x86_64", "3.12", source="pypi",
                        matrix={"2.14": {"x86_64": ["cu130"], "pypi": "13.0"}})["cuda"] == "13.0"
    with pytest.raises(TorchSelectError, match="12.8 build, not 12.6"):
        torch_select("570.124.06", "2.8.0", "x86_64", "3.11", source="pypi", cuda="12.6")
    with pytest.raises(TorchSelectError, match="aarch64"):
        torch_select("570.124.06", "2.8.0", "aarch64", "3.11", source="pypi")
    with pytest.raises(TorchSelectError, match="pytorch or pypi"):
        torch_select("570.124.06", "2.8.0", "x86_64", "3.11", source="conda")
