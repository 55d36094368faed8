"""Which packages install an NVIDIA driver of a given branch, per distribution and source.

Pure data and logic, so that every distribution's plan is unit tested even where its
archive is unreachable (Ubuntu and openEuler in the lab).
"""

from __future__ import annotations

import re


class NvidiaDriverError(ValueError):
    """The request cannot be met; the message says what to change."""


# Debian ships one driver branch per release (non-free).
DEBIAN_BRANCH = {12: 535, 13: 550}


def _flavour(kernel):
    match = re.search(r"-([a-z0-9]+)$", str(kernel))
    return match.group(1) if match else "generic"


def _pin(packages, version, mgr):
    if not version:
        return list(packages)
    return [f"{p}={version}-*" if mgr == "apt" else f"{p}-{version}" for p in packages]


def nvidia_driver_plan(distribution, major, source, branch, open_modules=True, version="", kernel="",
                       precompiled=True):
    """Return {mgr, kernel, userspace, fabricmanager, services, version}.

    kernel:        packages that build or ship the kernel module (skipped in containers)
    userspace:     libraries and tools (nvidia-smi, libcuda, persistence daemon)
    fabricmanager: NVSwitch fabric manager, pinned to the same version as the driver
    """
    branch = int(branch)
    version = str(version or "")
    if version and int(version.split(".", maxsplit=1)[0]) != branch:
        raise NvidiaDriverError(f"nvidia_driver_version {version} is not of nvidia_driver_branch {branch}")
    suffix = "-open" if open_modules else ""
    major = int(str(major).split(".", maxsplit=1)[0])
    headers = f"linux-headers-{kernel}" if kernel else "linux-headers-generic"

    if distribution == "Debian" and source == "distro":
        if major not in DEBIAN_BRANCH:
            raise NvidiaDriverError(f"Debian {major} non-free driver branches are unknown: use source cuda_repo")
        if DEBIAN_BRANCH[major] != branch:
            raise NvidiaDriverError(
                f"Debian {major} ships driver branch {DEBIAN_BRANCH[major]} only; set nvidia_driver_branch to "
                f"{DEBIAN_BRANCH[major]} or nvidia_driver_source to cuda_repo")
        plan = {
            "mgr": "apt",
            "kernel": [f"nvidia{suffix}-kernel-dkms", headers],
            "userspace": _pin(["nvidia-smi", "libcuda1", "libnvidia-ml1"], version, "apt") + ["nvidia-persistenced"],
            "fabricmanager": [],
        }
    elif distribution == "Ubuntu" and source == "distro":
        srv = f"{branch}-server"
        kernel_pkgs = ([f"linux-modules-nvidia-{srv}{suffix}-{_flavour(kernel)}"] if precompiled
                       else [f"nvidia-dkms-{srv}{suffix}", headers])
        plan = {
            "mgr": "apt",
            "kernel": kernel_pkgs,
            "userspace": _pin([f"nvidia-headless-no-dkms-{srv}{suffix}", f"nvidia-utils-{srv}"], version, "apt"),
            "fabricmanager": _pin([f"nvidia-fabricmanager-{branch}"], version, "apt"),
        }
    elif distribution in ("Ubuntu", "Debian") and source == "cuda_repo":
        plan = {
            "mgr": "apt",
            "kernel": [f"nvidia-dkms-{branch}{suffix}", headers],
            "userspace": _pin([f"nvidia-headless-no-dkms-{branch}{suffix}", f"nvidia-utils-{branch}"], version, "apt"),
            "fabricmanager": _pin([f"nvidia-fabricmanager-{branch}"], version, "apt"),
        }
    elif source == "cuda_repo":
        # RHEL-like and openEuler (through a RHEL repository mirror): dnf module streams.
        stream = f"@nvidia-driver:{branch}-{'open' if open_modules else 'dkms'}"
        plan = {
            "mgr": "dnf",
            "kernel": [stream, f"kernel-devel-{kernel}" if kernel else "kernel-devel", "dkms"],
            "userspace": _pin(["nvidia-driver-cuda", "nvidia-driver-libs"], version, "dnf") + ["nvidia-persistenced"],
            "fabricmanager": _pin(["nvidia-fabric-manager"], version, "dnf"),
        }
    else:
        raise NvidiaDriverError(
            f"nvidia_driver_source '{source}' is not available on {distribution}: use cuda_repo"
            + (" (with nvidia_cuda_repo_url pointing at a RHEL 9 mirror)" if distribution == "openEuler" else ""))
    plan["services"] = ["nvidia-persistenced"]
    plan["version"] = version or None
    return plan


class FilterModule:
    def filters(self):
        return {"nvidia_driver_plan": nvidia_driver_plan}
