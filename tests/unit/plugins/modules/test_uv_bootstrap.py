import functools
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from ansible_collections.inferops.inference.plugins.modules import uv_bootstrap

MODULE = Path(uv_bootstrap.__file__)
X86 = "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
ARM = "uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl"
MUSL = "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl"

PAGE = f"""<html><body>
<a href="{MUSL}#sha256=11">{MUSL}</a><br />
<a href="https://files.example/packages/ab/{X86}#sha256=ABCDEF" data-requires-python="&gt;=3.8">{X86}</a><br />
<a href="../../packages/{ARM}#sha256=22">{ARM}</a>
<a href="uv-0.13.8.tar.gz#md5=33">uv-0.13.8.tar.gz</a>
</body></html>"""


def test_page_links_resolve_urls_and_keep_only_sha256_fragments():
    links = page_links = uv_bootstrap.page_links(PAGE, "http://mirror:9002/index/uv/")
    assert page_links[0] == (MUSL, f"http://mirror:9002/index/uv/{MUSL}", "11")
    assert links[1] == (X86, f"https://files.example/packages/ab/{X86}", "abcdef")
    assert links[2] == (ARM, f"http://mirror:9002/packages/{ARM}", "22")
    assert links[3] == ("uv-0.13.8.tar.gz", "http://mirror:9002/index/uv/uv-0.13.8.tar.gz", "")


@pytest.mark.parametrize("name, arch, glibc, fits", [
    (X86, "x86_64", (2, 36), True),
    (X86, "x86_64", (2, 17), True),
    (X86, "x86_64", (2, 12), False),     # older than manylinux2014's glibc
    (X86, "aarch64", (2, 36), False),
    (ARM, "aarch64", (2, 28), True),     # openEuler 20.03's glibc
    (ARM, "aarch64", (2, 27), False),
    (MUSL, "x86_64", (2, 36), False),    # musl builds do not run on glibc hosts
    (X86.replace("0.13.9", "0.13.8"), "x86_64", (2, 36), False),
    ("uv-0.13.9.tar.gz", "x86_64", (2, 36), False),
    ("uv-0.13.9-py3-none-manylinux1_x86_64.whl", "x86_64", (2, 5), True),
])
def test_wheel_fits_only_this_version_arch_and_glibc(name, arch, glibc, fits):
    assert uv_bootstrap.wheel_fits(name, "0.13.9", arch, glibc) is fits


def test_choose_takes_the_first_fitting_link():
    links = uv_bootstrap.page_links(PAGE, "http://m/")
    assert uv_bootstrap.choose(links, "0.13.9", "x86_64", (2, 36))[0] == X86
    assert uv_bootstrap.choose(links, "0.13.9", "aarch64", (2, 36))[0] == ARM
    assert uv_bootstrap.choose(links, "0.14.0", "x86_64", (2, 36)) is None


def fake_wheel(path, version="0.13.9", script=None):
    """A wheel laid out as uv's: the binary under uv-VERSION.data/scripts/ (here a shell script)."""
    script = script or f"#!/bin/sh\necho uv {version}\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"uv-{version}.dist-info/METADATA", "Name: uv\n")
        archive.writestr(f"uv-{version}.data/scripts/uv", script)
    return path


def test_extract_uv_writes_an_executable_that_runs(tmp_path):
    wheel = fake_wheel(tmp_path / X86)
    dest = tmp_path / "bin"
    dest.mkdir()
    path = uv_bootstrap.extract_uv(str(wheel), "0.13.9", str(dest))
    assert os.stat(path).st_mode & 0o777 == 0o755
    assert uv_bootstrap.installed_version(path) == "0.13.9"
    assert [p.name for p in dest.iterdir()] == ["uv"]


def test_extract_uv_refuses_a_wheel_of_another_version(tmp_path):
    wheel = fake_wheel(tmp_path / X86, version="0.13.8")
    with pytest.raises(ValueError, match="uv-0.13.9.data/scripts/uv"):
        uv_bootstrap.extract_uv(str(wheel), "0.13.9", str(tmp_path))
    assert not list(tmp_path.glob(".uv.*"))


def test_installed_version_of_nothing_or_something_else(tmp_path):
    assert uv_bootstrap.installed_version(str(tmp_path / "missing")) is None
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\necho pip 24.0\n")
    other.chmod(0o755)
    assert uv_bootstrap.installed_version(str(other)) is None


def run_module(args, tmp_path):
    """The module as Ansible runs it: arguments in a JSON file."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)


def local_arch_wheel_name():
    arch = uv_bootstrap.host_arch()
    return f"uv-0.13.9-py3-none-manylinux_2_17_{arch}.manylinux2014_{arch}.whl"


def test_module_installs_from_a_folder_then_changes_nothing(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(wheels / local_arch_wheel_name())
    fake_wheel(wheels / MUSL)
    dest = tmp_path / "tools" / "bin"
    first = run_module({"version": "0.13.9", "dest": str(dest), "find_links": [str(wheels)]}, tmp_path)
    assert first["changed"] is True, first
    assert first["wheel"].endswith(local_arch_wheel_name())
    assert first["sha256"] == hashlib.sha256((wheels / local_arch_wheel_name()).read_bytes()).hexdigest()
    again = run_module({"version": "0.13.9", "dest": str(dest), "find_links": [str(wheels)]}, tmp_path)
    assert again["changed"] is False, again


def test_module_fails_naming_what_it_looked_in(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(wheels / MUSL)
    result = run_module({"version": "0.13.9", "dest": str(tmp_path / "bin"),
                         "find_links": [str(wheels)], "index_urls": ["http://127.0.0.1:9/simple/"]}, tmp_path)
    assert result["failed"] is True
    assert "no uv 0.13.9 wheel" in result["msg"] and str(wheels) in result["msg"]
    assert "127.0.0.1:9" in result["msg"] and "mirror uv==0.13.9" in result["msg"]
    assert not (tmp_path / "bin").exists()


@pytest.fixture
def index(tmp_path):
    """A PEP 503 index on 127.0.0.1 whose uv page links a wheel with the hash it is given."""
    root = tmp_path / "index"
    (root / "simple" / "uv").mkdir(parents=True)
    wheel = fake_wheel(root / local_arch_wheel_name())

    def publish(sha256):
        (root / "simple" / "uv" / "index.html").write_text(
            f'<a href="../../{wheel.name}#sha256={sha256}">{wheel.name}</a>')

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/", wheel, publish
    server.shutdown()


def test_module_installs_from_an_index_when_the_hash_matches(tmp_path, index):
    url, wheel, publish = index
    publish(hashlib.sha256(wheel.read_bytes()).hexdigest())
    result = run_module({"version": "0.13.9", "dest": str(tmp_path / "bin"), "index_urls": [url]}, tmp_path)
    assert result["changed"] is True, result
    assert result["wheel"] == url.replace("simple/", wheel.name)
    assert uv_bootstrap.installed_version(str(tmp_path / "bin" / "uv")) == "0.13.9"


def test_module_refuses_a_wheel_whose_hash_differs(tmp_path, index):
    url, _wheel, publish = index
    publish("0" * 64)
    result = run_module({"version": "0.13.9", "dest": str(tmp_path / "bin"), "index_urls": [url]}, tmp_path)
    assert result["failed"] is True
    assert "its index says " + "0" * 64 in result["msg"]
    assert not (tmp_path / "bin" / "uv").exists()


def test_module_keeps_the_wheel_and_downloads_it_once(tmp_path, index):
    url, wheel, publish = index
    publish(hashlib.sha256(wheel.read_bytes()).hexdigest())
    kept = tmp_path / "fleet-wheels"
    first = run_module({"version": "0.13.9", "dest": str(tmp_path / "a"), "index_urls": [url],
                        "wheel_dir": str(kept)}, tmp_path)
    assert first["changed"] is True, first
    assert (kept / wheel.name).read_bytes() == wheel.read_bytes()
    # Others serve it (a fleet seed's server runs as a dynamic user).
    assert (kept / wheel.name).stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in kept.iterdir()) == [wheel.name]
    # The index's copy is gone: a second host install takes the kept one.
    wheel.unlink()
    second = run_module({"version": "0.13.9", "dest": str(tmp_path / "b"), "index_urls": [url],
                         "wheel_dir": str(kept)}, tmp_path)
    assert second["changed"] is True, second
    assert uv_bootstrap.installed_version(str(tmp_path / "b" / "uv")) == "0.13.9"


def test_a_kept_wheel_with_another_hash_is_not_used(tmp_path):
    kept = tmp_path / "w"
    kept.mkdir()
    fake_wheel(kept / X86)
    assert uv_bootstrap.kept_wheel(str(kept), X86, "0" * 64) is None
    digest = hashlib.sha256((kept / X86).read_bytes()).hexdigest()
    assert uv_bootstrap.kept_wheel(str(kept), X86, digest) == str(kept / X86)
    assert uv_bootstrap.kept_wheel("", X86, digest) is None
