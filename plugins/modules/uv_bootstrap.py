#!/usr/bin/python
"""Put a pinned uv on a host from a package index, without pip or a venv module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: uv_bootstrap
short_description: Install a pinned uv binary from a Python package index, with nothing but the host's python3
description:
  - Reads the C(uv) project page of O(index_urls) (PEP 503, as PyPI and its mirrors serve it) or the listings in
    O(find_links) (a folder, or a URL listing files), picks the C(uv) O(version) wheel built for this machine
    (glibc C(manylinux), the host's architecture), downloads it, checks it against the SHA-256 the page gives,
    and writes the C(uv) binary it carries to O(dest)/uv.
  - Needs neither pip nor the venv module (on Debian and Ubuntu, C(python3 -m venv) needs the python3-venv
    package), so that uv can make venvs and install wheels before, and while, the OS packages install.
  - Does nothing when O(dest)/uv already reports O(version). Proxies come from the environment (C(HTTP_PROXY),
    C(HTTPS_PROXY)); a C(NETRC) file (or C(~/.netrc)) gives credentials for a host that asks for them.
version_added: "0.10.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  version:
    description: The uv version, exactly.
    type: str
    required: true
  dest:
    description: The folder to write C(uv) into (created if missing, mode 0755).
    type: path
    required: true
  index_urls:
    description: Simple (PEP 503) index URLs, tried in order; each one's C(uv/) page is read.
    type: list
    elements: str
    default: []
  find_links:
    description: Folders holding wheels, or URLs of pages that link to them, tried after O(index_urls).
    type: list
    elements: str
    default: []
  wheel_dir:
    description:
      - A folder to keep the wheel in (created if missing). A wheel of that name already there whose SHA-256 is the
        index's is used without a download; a downloaded one is left there. For a folder that other tools fill
        from the same index (a fleet's or a bundle's wheelhouse), so that the wheel is downloaded once.
    type: path
  timeout:
    description: Seconds for each request.
    type: int
    default: 60
  validate_certs:
    description: Check the TLS certificates of https URLs (against the system's CA store).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Install uv into the tools venv's bin folder
  inferops.inference.uv_bootstrap:
    version: 0.13.9
    dest: /opt/inferops/vllm/tools/bin
    index_urls: [https://pypi.org/simple/]

- name: On a fleet's seed, keep the wheel where the fleet's wheels are downloaded to
  inferops.inference.uv_bootstrap:
    version: 0.13.9
    dest: /opt/inferops/vllm/tools/bin
    index_urls: [https://pypi.org/simple/]
    wheel_dir: /opt/inferops/vllm/cache/fleet-wheels

- name: The same, offline, from a wheelhouse
  inferops.inference.uv_bootstrap:
    version: 0.13.9
    dest: /opt/inferops/vllm/tools/bin
    find_links: [/opt/inferops/bundle/wheels]
"""

RETURN = r"""
path:
  description: The uv binary.
  returned: always
  type: str
  sample: /opt/inferops/vllm/tools/bin/uv
wheel:
  description: Where the wheel was taken from (empty when uv was already in place).
  returned: always
  type: str
  sample: https://files.pythonhosted.org/packages/.../uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
sha256:
  description: The SHA-256 of the wheel (empty when uv was already in place).
  returned: always
  type: str
"""

import hashlib
import netrc
import os
import platform
import re
import shutil
import subprocess
import tempfile
import zipfile
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

# PEP 691: some indexes (proxpi) answer 406 to a request that names no format.
HTML = {"Accept": "application/vnd.pypi.simple.v1+html, text/html;q=0.01"}
MANYLINUX = re.compile(r"^manylinux(?:_(\d+)_(\d+)|1|2010|2014)_(\w+)$")
LEGACY_GLIBC = {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def page_links(html, base):
    """[(file name, absolute URL without fragment, sha256 or '')] of a page's anchors."""
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        url, _sep, fragment = urljoin(base, href).partition("#")
        algo, _eq, digest = fragment.partition("=")
        found.append((url.rstrip("/").rsplit("/", 1)[-1], url, digest.lower() if algo == "sha256" else ""))
    return found


def wheel_fits(name, version, arch, glibc):
    """Whether a file name is the uv VERSION wheel for ARCH on a glibc GLIBC (a (major, minor))."""
    prefix = f"uv-{version}-"
    if not (name.startswith(prefix) and name.endswith(".whl")):
        return False
    platforms = name[:-len(".whl")].rsplit("-", 1)[-1].split(".")
    for tag in platforms:
        match = MANYLINUX.match(tag)
        if not match or match.group(3) != arch:
            continue
        legacy = tag[len("manylinux"):].split("_", 1)[0]
        needs = LEGACY_GLIBC.get(legacy) or (int(match.group(1)), int(match.group(2)))
        if glibc >= needs:
            return True
    return False


def choose(links, version, arch, glibc):
    """The first link that fits, in the page's order."""
    return next((link for link in links if wheel_fits(link[0], version, arch, glibc)), None)


def host_glibc():
    found = re.search(r"(\d+)\.(\d+)", os.confstr("CS_GNU_LIBC_VERSION") or "")
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def host_arch():
    machine = platform.machine()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine.lower(), machine)


def installed_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=False).stdout
    except OSError:
        return None
    parts = out.split()
    return parts[1] if len(parts) > 1 and parts[0] == "uv" else None


def extract_uv(wheel, version, dest):
    """Write the wheel's uv binary to DEST/uv (0755), atomically."""
    member = f"uv-{version}.data/scripts/uv"
    with zipfile.ZipFile(wheel) as archive:
        if member not in archive.namelist():
            raise ValueError(f"{wheel} holds no {member}")
        fd, tmp = tempfile.mkstemp(prefix=".uv.", dir=dest)
        try:
            with os.fdopen(fd, "wb") as out, archive.open(member) as src:
                shutil.copyfileobj(src, out)
            os.chmod(tmp, 0o755)
            os.replace(tmp, os.path.join(dest, "uv"))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return os.path.join(dest, "uv")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Fetcher:
    def __init__(self, timeout, validate_certs):
        self.timeout, self.validate_certs = timeout, validate_certs
        self.errors = []
        try:
            self.netrc = netrc.netrc(os.environ.get("NETRC") or None)
        except (OSError, netrc.NetrcParseError):
            self.netrc = None

    def open(self, url, headers=None):
        auth = self.netrc.authenticators(urlsplit(url).hostname) if self.netrc else None
        return open_url(url, headers=headers, timeout=self.timeout, validate_certs=self.validate_certs,
                        url_username=auth[0] if auth else None, url_password=auth[2] if auth else None,
                        force_basic_auth=bool(auth), follow_redirects="all")

    def links(self, source, project_page):
        """A source's links: a folder's files, or a page's anchors (an index's project page)."""
        if "://" not in source:
            if not os.path.isdir(source):
                return []
            return [(name, os.path.join(source, name), "") for name in sorted(os.listdir(source))]
        url = source.rstrip("/") + "/uv/" if project_page else source
        try:
            with self.open(url, HTML) as response:
                return page_links(response.read().decode("utf-8", "replace"), response.geturl())
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # One index without uv (a 404) is not fatal while another may have it.
            self.errors.append(f"{url}: {exc}")
            return []

    def download(self, url, into):
        """The wheel at URL as a file in INTO (written whole or not at all)."""
        if "://" not in url:
            return url
        path = os.path.join(into, url.rsplit("/", 1)[-1])
        fd, tmp = tempfile.mkstemp(prefix=".uv-wheel.", dir=into)
        try:
            with self.open(url) as response, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(response, out)
            # Readable as pip leaves its downloads: a fleet seed's server (a dynamic user) serves it.
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path


def kept_wheel(wheel_dir, name, expected):
    """A wheel kept in WHEEL_DIR by an earlier run or download, if it is the index's (by SHA-256)."""
    path = os.path.join(wheel_dir, name) if wheel_dir else ""
    return path if path and expected and os.path.isfile(path) and sha256_of(path) == expected else None


def main():
    module = AnsibleModule(
        argument_spec={
            "version": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "index_urls": {"type": "list", "elements": "str", "default": []},
            "find_links": {"type": "list", "elements": "str", "default": []},
            "wheel_dir": {"type": "path"},
            "timeout": {"type": "int", "default": 60},
            "validate_certs": {"type": "bool", "default": True},
        },
        required_one_of=[("index_urls", "find_links")],
        supports_check_mode=True,
    )
    params = module.params
    version, dest = params["version"], params["dest"]
    path = os.path.join(dest, "uv")
    if installed_version(path) == version:
        module.exit_json(changed=False, path=path, wheel="", sha256="")
    if module.check_mode:
        module.exit_json(changed=True, path=path, wheel="", sha256="")

    fetcher = Fetcher(params["timeout"], params["validate_certs"])
    arch, glibc = host_arch(), host_glibc()
    sources = [(url, True) for url in params["index_urls"]] + [(link, False) for link in params["find_links"]]
    chosen = None
    for source, project_page in sources:
        chosen = choose(fetcher.links(source, project_page), version, arch, glibc)
        if chosen:
            break
    if not chosen:
        module.fail_json(msg=f"no uv {version} wheel for {arch} (glibc {glibc[0]}.{glibc[1]}) in "
                             f"{', '.join(s for s, _p in sources)}"
                             + (f" ({'; '.join(fetcher.errors)})" if fetcher.errors else "")
                             + f": mirror uv=={version} there, or set the uv version")
    name, url, expected = chosen
    os.makedirs(dest, mode=0o755, exist_ok=True)
    wheel_dir = params["wheel_dir"]
    if wheel_dir:
        os.makedirs(wheel_dir, mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inferops-uv-") as work:
        wheel = kept_wheel(wheel_dir, name, expected)
        try:
            wheel = wheel or fetcher.download(url, wheel_dir or work)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            module.fail_json(msg=f"could not download {url}: {exc}")
        digest = sha256_of(wheel)
        if expected and digest != expected:
            module.fail_json(msg=f"{name} from {url} has SHA-256 {digest}, its index says {expected}")
        try:
            extract_uv(wheel, version, dest)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            module.fail_json(msg=f"could not unpack uv from {name}: {exc}")
    if installed_version(path) != version:
        module.fail_json(msg=f"{path} from {name} does not run as uv {version} on this host")
    module.exit_json(changed=True, path=path, wheel=url, sha256=digest)


if __name__ == "__main__":
    main()
