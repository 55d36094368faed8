"""vLLM source builds without network access from the build: where the sdist is on an index,
which files a Debian source package consists of, and what the built wheel needs at run time
(vLLM's own requirement files name triton by a GitHub URL, which offline sites cannot reach)."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import urljoin, urlsplit


_HREF = re.compile(r"""<a\s[^>]*href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


class SourceBuildError(ValueError):
    """The input does not describe what the build needs; the message says what is missing."""


def _normalise(name):
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def index_sdist(content, page_url, project, version):
    """The sdist of project==version linked from a PEP 503 page."""
    for href in _HREF.findall(str(content or "")):
        url, fragment = html.unescape(href).partition("#")[::2]
        filename = urlsplit(url).path.rsplit("/", 1)[-1]
        stem = next((filename[: -len(ext)] for ext in (".tar.gz", ".zip") if filename.endswith(ext)), None)
        if stem is None:
            continue
        name, found = stem.rpartition("-")[::2]
        if _normalise(name) != _normalise(project) or found != str(version):
            continue
        sha = fragment.split("=", 1)[1] if fragment.startswith("sha256=") else ""
        return {"url": urljoin(str(page_url), url), "filename": filename, "sha256": sha}
    raise SourceBuildError(
        f"{page_url} lists no sdist of {project} {version}: check vllm_install_version and vllm_install_index_url, "
        "or set vllm_install_source_url")


def _wheel_fits(filename, project, version, arch, python):
    """A wheel file name (PEP 427) of project==version that installs on this arch and CPython."""
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6) or _normalise(parts[0]) != _normalise(project) or parts[1] != str(version):
        return False
    py_tags, abi_tags, plat_tags = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    if not any(p == "any" or p.endswith("_" + arch) for p in plat_tags):
        return False
    major, minor = (int(x) for x in str(python).split(".")[:2])
    for tag in py_tags:
        if tag in ("py3", f"py{major}"):
            return True
        if tag.startswith("cp") and tag[2:].isdigit():
            wanted = int(tag[3:]) if len(tag) > 3 else 0
            # abi3 wheels run on their CPython and every later one; others on theirs only.
            if "abi3" in abi_tags and int(tag[2]) == major and minor >= wanted:
                return True
            if tag == f"cp{major}{minor}":
                return True
    return False


def index_wheel_fits(contents, project, version, arch, python):
    """True when any of the PEP 503 pages lists a wheel of project==version for this host."""
    for content in contents or []:
        for href in _HREF.findall(str(content or "")):
            filename = urlsplit(html.unescape(href).partition("#")[0]).path.rsplit("/", 1)[-1]
            if filename.endswith(".whl") and _wheel_fits(filename.replace("%2B", "+"), project, version, arch, python):
                return True
    return False


def dsc_files(content):
    """The files of a Debian source package (its .dsc), with their sha256 and size."""
    files, section = [], None
    for line in str(content or "").splitlines():
        if line.startswith("-----BEGIN PGP SIGNATURE"):
            break
        if line and not line[0].isspace():
            section = line.split(":", 1)[0]
            continue
        if section == "Checksums-Sha256" and line.strip():
            parts = line.split()
            if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]) or "/" in parts[2]:
                raise SourceBuildError(f"malformed Checksums-Sha256 line in the .dsc: {line.strip()!r}")
            files.append({"name": parts[2], "sha256": parts[0], "size": int(parts[1])})
    if not files:
        raise SourceBuildError("the .dsc lists no files under Checksums-Sha256: is it a Debian source package?")
    return files


def _requirement_name(line):
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normalise(match.group(1)) if match else ""


def runtime_requirements(files, device, drop=()):
    """Requirement lines of requirements/<device>.txt with its -r includes, for a built wheel.

    files: {file name: text} of the sdist's requirements/ folder. Requirements given by URL
    (name @ https://...) are left out: offline sites cannot reach them, and the wheel runs
    without them (triton-cpu is optional on CPU). Names in drop (torch: the role pins it
    itself) are left out too. Comments and pip options other than -r are dropped.
    """
    files = dict(files or {})
    dropped = {_normalise(name) for name in drop}
    out, seen = [], set()

    def walk(name):
        if name in seen:
            return
        if name not in files:
            raise SourceBuildError(f"requirements/{name} is missing from the source")
        seen.add(name)
        for raw in str(files[name]).splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("-r ", "--requirement ")):
                walk(line.split(None, 1)[1].strip())
                continue
            if line.startswith("-"):
                continue
            if "@" in line.split(";", 1)[0] or _requirement_name(line) in dropped:
                continue
            if line not in out:
                out.append(line)

    walk(f"{device}.txt")
    return out


def wheel_cache_key(version, device, arch, python, torch, patches=()):
    """The folder a built wheel is cached under: one per (vLLM, device, arch, Python, torch,
    patches applied to vLLM's source)."""
    torch_part = re.sub(r"[^A-Za-z0-9.+-]", "", str(torch or "pinned").replace("torch==", "")) or "pinned"
    key = f"vllm-{version}-{device}-{arch}-py{python}-torch{torch_part}"
    names = [str(p).rsplit("/", 1)[-1] for p in patches or ()]
    if names:
        key += "-patched-" + hashlib.sha256("\n".join(names).encode()).hexdigest()[:8]
    return key


def lock_cuda_release(lock):
    """The CUDA release (major.minor) of the torch build a uv lock resolved, from the CUDA
    runtime it pins (cuda-toolkit, nvidia-cuda-runtime or nvidia-cuda-runtime-cuXY); "" for
    a CPU build of torch."""
    pattern = re.compile(r"^(?:cuda-toolkit|nvidia-cuda-runtime(?:-cu[0-9]+)?)(?:\[[^\]]*\])?==([0-9]+)[.]([0-9]+)", re.IGNORECASE)
    for line in str(lock or "").splitlines():
        match = pattern.match(line.strip())
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    return ""


def cuda_toolkit_wheels(release):
    """NVIDIA's wheels that make a CUDA toolkit of this release (nvcc and NVVM) for torch's
    CMake files; none for an empty release (a CPU build of torch)."""
    release = str(release or "").strip()
    if not release:
        return []
    if not re.fullmatch(r"[0-9]+[.][0-9]+", release):
        raise SourceBuildError(f"{release!r} is not a CUDA release (major.minor)")
    return [f"nvidia-cuda-nvcc=={release}.*", f"nvidia-nvvm=={release}.*"]


class FilterModule:
    def filters(self):
        return {
            "index_sdist": index_sdist,
            "index_wheel_fits": index_wheel_fits,
            "dsc_files": dsc_files,
            "runtime_requirements": runtime_requirements,
            "wheel_cache_key": wheel_cache_key,
            "lock_cuda_release": lock_cuda_release,
            "cuda_toolkit_wheels": cuda_toolkit_wheels,
        }
