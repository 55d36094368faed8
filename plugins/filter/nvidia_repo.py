"""Where NVIDIA's CUDA repository for a host lives, from its facts."""

from __future__ import annotations


class NvidiaRepoError(ValueError):
    """The host has no NVIDIA repository; the message says what to set instead."""


_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "sbsa", "arm64": "sbsa"}
# NVIDIA publishes repositories for these releases only.
_SUPPORTED = {
    "ubuntu": {(20, 4), (22, 4), (24, 4)},
    "debian": {(11,), (12,), (13,)},
    "rhel": {(8,), (9,), (10,)},
}


def _numbers(version):
    """'22.04' -> (22, 4); '9.4' -> (9, 4). Compare numbers, never strings."""
    parts = []
    for piece in str(version).split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    if not parts:
        raise NvidiaRepoError(f"cannot read a version from '{version}'")
    return tuple(parts)


def nvidia_repo_path(distribution, version, os_family, arch):
    """Return '<distro>/<arch>' (e.g. 'ubuntu2404/x86_64', 'rhel9/sbsa') or raise."""
    if str(arch) not in _ARCH:
        raise NvidiaRepoError(f"NVIDIA publishes no CUDA repository for architecture {arch}")
    repo_arch = _ARCH[str(arch)]
    numbers = _numbers(version)
    dist = str(distribution)
    if dist == "openEuler":
        raise NvidiaRepoError(
            "NVIDIA publishes no repository for openEuler: set nvidia_cuda_repo_url to a mirror of a RHEL 9 "
            "repository (e.g. .../repos/rhel9/" + repo_arch + "/) or to your own RPM mirror")
    if dist == "Ubuntu":
        key = ("ubuntu", numbers[:2])
        name = f"ubuntu{numbers[0]:02d}{numbers[1]:02d}" if len(numbers) > 1 else None
    elif dist == "Debian":
        key, name = ("debian", numbers[:1]), f"debian{numbers[0]}"
    elif str(os_family) == "RedHat":
        key, name = ("rhel", numbers[:1]), f"rhel{numbers[0]}"
    else:
        raise NvidiaRepoError(f"no NVIDIA CUDA repository is known for {dist}: set nvidia_cuda_repo_url")
    if name is None or key[1] not in _SUPPORTED[key[0]]:
        raise NvidiaRepoError(
            f"NVIDIA publishes no CUDA repository for {dist} {version}: set nvidia_cuda_repo_url to a mirror")
    return f"{name}/{repo_arch}"


class FilterModule:
    def filters(self):
        return {"nvidia_repo_path": nvidia_repo_path}
