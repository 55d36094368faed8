"""Choose the PyTorch wheel variant (cpu, cu126, ...) and its index from facts.

Seed 000 calls picking the torch wheel that matches CUDA the main way installs fail. This
encodes the rule: a CUDA build of torch runs when the NVIDIA driver supports that CUDA
version. The driver's own CUDA version (the "CUDA Version" of nvidia-smi) is the safe bound;
minor-version compatibility (any 12.x on a driver >= 525.60.13) is allowed only on request,
since it loses features such as PTX JIT for newer GPUs.
"""

from __future__ import annotations

# Minimum Linux driver per CUDA toolkit (NVIDIA's CUDA release notes, "CUDA Toolkit and
# Corresponding Driver Versions").
CUDA_MIN_DRIVER = {
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
}
# Minimum driver per CUDA major under minor-version compatibility.
CUDA_MAJOR_MIN_DRIVER = {"11": "450.80.02", "12": "525.60.13", "13": "580.65.06"}

# torch minor -> CUDA variants published on download.pytorch.org, per architecture, and the
# supported CPython range. Every version also has a cpu variant. Extend with the matrix
# argument (vllm_install_torch_matrix) for releases newer than this table.
TORCH_MATRIX = {
    "2.6": {"x86_64": ["cu118", "cu124", "cu126"], "aarch64": [], "python": ["3.9", "3.13"]},
    "2.7": {"x86_64": ["cu118", "cu126", "cu128"], "aarch64": ["cu128"], "python": ["3.9", "3.13"]},
    "2.8": {"x86_64": ["cu126", "cu128", "cu129"], "aarch64": ["cu128", "cu129"], "python": ["3.9", "3.13"]},
    "2.9": {"x86_64": ["cu126", "cu128", "cu130"], "aarch64": ["cu126", "cu128", "cu130"], "python": ["3.10", "3.14"]},
    "2.10": {"x86_64": ["cu126", "cu128", "cu130"], "aarch64": ["cu126", "cu128", "cu130"], "python": ["3.10", "3.14"]},
}


# The CUDA release of PyPI's own torch wheel for Linux x86_64, per torch minor (read from the
# wheels' nvidia-cuda-runtime requirements). On aarch64, PyPI's torch up to 2.9 is a CPU build.
# Sites that cannot reach download.pytorch.org (or a mirror of it) install these.
PYPI_TORCH_CUDA = {
    "2.5": "12.4", "2.6": "12.4", "2.7": "12.6", "2.8": "12.8", "2.9": "12.8", "2.10": "12.8", "2.13": "13.0",
}


class TorchSelectError(ValueError):
    """No torch wheel fits the request; the message says why and what would."""


def _ver(text):
    return tuple(int(part) for part in str(text).split(".") if part.isdigit())


def _cuda_of(variant):
    digits = variant[2:]
    return f"{digits[:-1]}.{digits[-1]}"


def _minor(torch_version):
    parts = str(torch_version).split("+", maxsplit=1)[0].split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise TorchSelectError(f"torch version '{torch_version}' is not a version such as 2.8.0")
    return f"{parts[0]}.{parts[1]}"


def _driver_supports(driver, variant, minor_version_compat):
    cuda = _cuda_of(variant)
    if minor_version_compat:
        need = CUDA_MAJOR_MIN_DRIVER.get(cuda.split(".", maxsplit=1)[0])
    else:
        need = CUDA_MIN_DRIVER.get(cuda)
    return need is not None and _ver(driver) >= _ver(need), need


def _select_pypi(driver_version, torch_version, minor, arch, cuda, minor_version_compat, pypi_cuda):
    """PyPI's build: one CUDA release per torch version, checked against the driver like any other."""
    if arch != "x86_64" or minor not in pypi_cuda:
        raise TorchSelectError(
            f"PyPI's CUDA build of torch {minor} for {arch} is not known to this selection: use "
            "vllm_install_torch_source: pytorch, or add it to vllm_install_torch_matrix as {'" + minor + "': {pypi: '12.8'}}")
    carried = pypi_cuda[minor]
    if cuda and str(cuda) != carried:
        raise TorchSelectError(f"PyPI's torch {minor} is a CUDA {carried} build, not {cuda}: unset vllm_install_torch_cuda "
                               "or use vllm_install_torch_source: pytorch")
    variant = "cu" + carried.replace(".", "")
    ok, need = _driver_supports(driver_version, variant, minor_version_compat)
    if not ok:
        raise TorchSelectError(
            f"PyPI's torch {minor} is a CUDA {carried} build, which needs NVIDIA driver >= {need}; the target driver is "
            f"{driver_version}: upgrade the driver, or choose an older torch (and the vLLM release that pins it)")
    return {"variant": "pypi", "cuda": carried, "torch_version": str(torch_version).split("+", maxsplit=1)[0], "index_url": "",
            "reason": f"PyPI's torch {minor} (CUDA {carried}); driver {driver_version} supports it"}


def torch_select(driver_version, torch_version, arch="x86_64", python_version="3.11", cuda=None,
                 index_base="https://download.pytorch.org/whl", minor_version_compat=False, matrix=None,
                 source="pytorch"):
    """Return {variant, cuda, torch_version, index_url, reason} or raise TorchSelectError.

    source: pytorch (a CUDA variant from PyTorch's index, the newest the driver supports) or
    pypi (PyPI's own build, variant "pypi", whose one CUDA release must suit the driver).
    """
    table = dict(TORCH_MATRIX)
    table.update(matrix or {})
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(str(arch), str(arch))
    minor = _minor(torch_version)
    if minor not in table and not (source == "pypi" and minor in PYPI_TORCH_CUDA):
        raise TorchSelectError(
            f"torch {torch_version} is not in the variant table ({', '.join(sorted(table, key=_ver))}): add it with "
            "vllm_install_torch_matrix, or set vllm_install_torch_version and vllm_install_torch_variant yourself")
    entry = table.get(minor, {})
    low, high = entry.get("python", ["3.0", "9.99"])
    if not _ver(low) <= _ver(python_version)[:2] <= _ver(high):
        raise TorchSelectError(f"torch {minor} supports Python {low} to {high}; this host has {python_version}")
    if arch not in ("x86_64", "aarch64"):
        raise TorchSelectError(f"no torch wheels for architecture {arch}")

    def result(variant, reason):
        return {
            "variant": variant,
            "cuda": None if variant == "cpu" else _cuda_of(variant),
            "torch_version": str(torch_version).split("+", maxsplit=1)[0],
            "index_url": f"{index_base.rstrip('/')}/{variant}",
            "reason": reason,
        }

    if cuda == "cpu" or (not driver_version and cuda is None):
        return result("cpu", "no NVIDIA driver: CPU build" if not driver_version else "CPU build requested")
    if not driver_version:
        raise TorchSelectError(f"CUDA {cuda} requested but no NVIDIA driver was found: install the driver first")
    if source == "pypi":
        pypi_cuda = dict(PYPI_TORCH_CUDA)
        pypi_cuda.update({k: v["pypi"] for k, v in (matrix or {}).items() if isinstance(v, dict) and v.get("pypi")})
        return _select_pypi(driver_version, torch_version, minor, arch, cuda, minor_version_compat, pypi_cuda)
    if source != "pytorch":
        raise TorchSelectError(f"vllm_install_torch_source must be pytorch or pypi, not {source!r}")

    variants = entry.get(arch, [])
    if not variants:
        raise TorchSelectError(f"torch {minor} has no CUDA wheels for {arch}; use a newer torch or a source build")
    if cuda:
        wanted = "cu" + str(cuda).replace(".", "")
        if wanted not in variants:
            raise TorchSelectError(
                f"torch {minor} has no CUDA {cuda} build for {arch}; it has {', '.join(_cuda_of(v) for v in variants)}")
        ok, need = _driver_supports(driver_version, wanted, minor_version_compat)
        if not ok:
            raise TorchSelectError(
                f"CUDA {cuda} needs NVIDIA driver >= {need}; this host has {driver_version}: upgrade the driver or "
                "choose an older CUDA")
        return result(wanted, f"CUDA {cuda} requested; driver {driver_version} supports it")

    usable = [v for v in variants if _driver_supports(driver_version, v, minor_version_compat)[0]]
    if not usable:
        oldest = min(variants, key=lambda v: _ver(_cuda_of(v)))
        need = _driver_supports(driver_version, oldest, minor_version_compat)[1]
        raise TorchSelectError(
            f"driver {driver_version} is too old for every CUDA build of torch {minor} "
            f"({', '.join(_cuda_of(v) for v in variants)}); CUDA {_cuda_of(oldest)} needs >= {need}")
    best = max(usable, key=lambda v: _ver(_cuda_of(v)))
    return result(best, f"newest CUDA build of torch {minor} that driver {driver_version} supports")


def cuda_min_driver(cuda_version):
    """Oldest driver that runs any toolkit of this CUDA major (minor-version compatibility)."""
    major = str(cuda_version).split(".", maxsplit=1)[0]
    if major not in CUDA_MAJOR_MIN_DRIVER:
        raise TorchSelectError(f"CUDA {cuda_version}: unknown major version (known: {', '.join(CUDA_MAJOR_MIN_DRIVER)})")
    return CUDA_MAJOR_MIN_DRIVER[major]


def driver_supports_cuda(driver_version, cuda_version):
    """True when driver_version can run CUDA cuda_version (compared as numbers)."""
    return _ver(driver_version) >= _ver(cuda_min_driver(cuda_version))


class FilterModule:
    def filters(self):
        return {
            "torch_select": torch_select,
            "cuda_min_driver": cuda_min_driver,
            "driver_supports_cuda": driver_supports_cuda,
        }
