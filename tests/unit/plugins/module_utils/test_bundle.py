"""Offline bundles: the manifest, and the checks of a directory and a tarball against it."""
import hashlib
import json
import os
import tarfile

import pytest

from ansible_collections.inferops.inference.plugins.module_utils import bundle as lib

META = {"profile": "cpu_node", "architecture": "x86_64"}


def make_bundle(root):
    os.umask(0o022)
    os.makedirs(root / "wheels")
    os.makedirs(root / "debs")
    (root / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel a")
    (root / "debs" / "b_1_amd64.deb").write_bytes(b"deb b" * 100)
    built = lib.build_manifest(str(root), META)
    text = lib.manifest_text(built)
    (root / lib.MANIFEST).write_text(text)
    (root / lib.SUMS).write_text(lib.sums_text(built, hashlib.sha256(text.encode()).hexdigest()))
    return built


def test_manifest_lists_every_file_with_size_and_hash(tmp_path):
    built = make_bundle(tmp_path)
    assert built["profile"] == "cpu_node" and built["format"] == 1
    assert built["files"]["wheels/a-1.0-py3-none-any.whl"] == {
        "size": 7, "sha256": hashlib.sha256(b"wheel a").hexdigest()}
    assert built["total_bytes"] == 7 + 500
    # The sums file is sha256sum's format, the manifest first.
    first = (tmp_path / lib.SUMS).read_text().splitlines()[0]
    assert first.endswith("  manifest.json")


def test_a_complete_directory_passes_and_is_recorded(tmp_path):
    make_bundle(tmp_path)
    manifest, _digest, problems, record = lib.check_directory(str(tmp_path))
    assert problems == []
    assert manifest["architecture"] == "x86_64"
    assert set(record["files"]) == {"wheels/a-1.0-py3-none-any.whl", "debs/b_1_amd64.deb"}


@pytest.mark.parametrize("damage, expected", [
    (lambda r: (r / "debs" / "b_1_amd64.deb").write_bytes(b"deb c" * 100), "debs/b_1_amd64.deb: sha256 differs"),
    (lambda r: (r / "debs" / "b_1_amd64.deb").write_bytes(b"deb"), "debs/b_1_amd64.deb: 3 bytes"),
    (lambda r: os.remove(r / "wheels" / "a-1.0-py3-none-any.whl"), "wheels/a-1.0-py3-none-any.whl: missing"),
    (lambda r: (r / "wheels" / "evil-9.0-py3-none-any.whl").write_bytes(b"x"), "evil-9.0-py3-none-any.whl: not in the manifest"),
    (lambda r: os.symlink("/etc/passwd", r / "wheels" / "link.whl"), "wheels/link.whl: a symbolic link"),
    (lambda r: os.chmod(r / "wheels", 0o777), "wheels/: writable by group or others"),
    (lambda r: os.chmod(r / "debs" / "b_1_amd64.deb", 0o4755), "debs/b_1_amd64.deb: writable by group or others, or setuid"),
    (lambda r: (r / lib.MANIFEST).write_text((r / lib.MANIFEST).read_text().replace("cpu_node", "gpu_node")),
     "manifest.json: its sha256 is not the one SHA256SUMS lists"),
    (lambda r: os.remove(r / lib.SUMS), "SHA256SUMS: missing"),
])
def test_damaged_directories_are_refused_naming_the_file(tmp_path, damage, expected):
    make_bundle(tmp_path)
    damage(tmp_path)
    _manifest, _digest, problems, record = lib.check_directory(str(tmp_path))
    assert any(expected in problem for problem in problems), problems
    assert record is None


def test_a_record_skips_hashing_unchanged_files_but_not_changed_ones(tmp_path, monkeypatch):
    make_bundle(tmp_path)
    *_rest, record = lib.check_directory(str(tmp_path))
    hashed = []
    real = lib.sha256_file
    monkeypatch.setattr(lib, "sha256_file", lambda path: hashed.append(path) or real(path))
    assert lib.check_directory(str(tmp_path), record)[2] == []
    assert hashed == []
    deb = tmp_path / "debs" / "b_1_amd64.deb"
    deb.write_bytes(b"deb X" * 100)
    problems = lib.check_directory(str(tmp_path), record)[2]
    assert hashed == [str(deb)]
    assert any("b_1_amd64.deb: sha256 differs" in p for p in problems)


def tar_of(root, dest, extra=None):
    with tarfile.open(dest, "w") as tar:
        tar.add(root, arcname="bundle")
        if extra:
            extra(tar)
    return dest


def test_a_tarball_is_checked_without_unpacking(tmp_path):
    make_bundle(tmp_path / "b")
    manifest, _digest, problems, top, _meta = lib.check_tarball(tar_of(tmp_path / "b", tmp_path / "b.tar"))
    assert problems == [] and top == "bundle" and manifest["profile"] == "cpu_node"
    (tmp_path / "b" / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel b")
    problems = lib.check_tarball(tar_of(tmp_path / "b", tmp_path / "c.tar"))[2]
    assert problems == ["wheels/a-1.0-py3-none-any.whl: sha256 differs from the manifest (corrupt or tampered)"]


def test_a_tarball_may_not_carry_loose_permissions(tmp_path):
    make_bundle(tmp_path / "b")

    def loose(tar):
        info = tar.gettarinfo(tmp_path / "b" / "debs" / "b_1_amd64.deb", arcname="bundle/debs/b_1_amd64.deb")
        info.mode = 0o6777
        with open(tmp_path / "b" / "debs" / "b_1_amd64.deb", "rb") as stream:
            tar.addfile(info, stream)
    problems = lib.check_tarball(tar_of(tmp_path / "b", tmp_path / "b.tar", loose))[2]
    assert "debs/b_1_amd64.deb: writable by group or others, or setuid, in the archive" in problems


def test_a_record_counts_only_for_the_same_folder(tmp_path):
    make_bundle(tmp_path / "a")
    *_rest, record = lib.check_directory(str(tmp_path / "a"))
    assert record["path"] == str(tmp_path / "a")
    record["path"] = "/elsewhere"
    deb = tmp_path / "a" / "debs" / "b_1_amd64.deb"
    stat = deb.stat()
    deb.write_bytes(b"deb X" * 100)
    os.utime(deb, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # Same size and mtime: a record of this folder would spare the hash; one of another does not.
    assert any("sha256 differs" in p for p in lib.check_directory(str(tmp_path / "a"), record)[2])


def test_the_expected_size_of_a_response():
    assert lib.expected_size({"Content-Range": "bytes 100-199/1000", "Content-Length": "100"}, 100) == 1000
    assert lib.expected_size({"Content-Length": "500"}, 0) == 500
    assert lib.expected_size({}, 0) is None


def test_a_tarball_may_not_reach_out_of_its_folder(tmp_path):
    make_bundle(tmp_path / "b")
    (tmp_path / "x").write_bytes(b"x")

    def escape(tar):
        tar.add(tmp_path / "x", arcname="bundle/../x")
    problems = lib.check_tarball(tar_of(tmp_path / "b", tmp_path / "b.tar", escape))[2]
    assert "bundle/../x: a path outside the bundle" in problems


def test_summary_leaves_out_the_files(tmp_path):
    built = make_bundle(tmp_path)
    assert "files" not in lib.summary(built) and lib.summary(built)["total_bytes"] == 507
    assert json.loads(lib.manifest_text(built)) == built


class _RangeHandler(__import__("http.server").server.SimpleHTTPRequestHandler):
    """Serves one payload, honouring Range as web servers do."""
    payload = bytes(range(256)) * 4096
    seen = []
    cut_after = None  # bytes sent before the connection is closed, as a failing server does

    def do_GET(self):  # noqa: N802 (http.server's name)
        start = 0
        header = self.headers.get("Range")
        self.seen.append(header)
        if header:
            start = int(header.split("=")[1].rstrip("-"))
            if start >= len(self.payload):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        self.end_headers()
        self.wfile.write(body[:self.cut_after] if self.cut_after else body)
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_a_partial_download_is_resumed_with_range(tmp_path):
    import http.server
    import threading
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/b.tar"
    part = tmp_path / "b.tar.part"
    part.write_bytes(_RangeHandler.payload[:1000])
    try:
        assert lib.fetch_resumed(url, str(part), 10) == len(_RangeHandler.payload)
        assert part.read_bytes() == _RangeHandler.payload
        assert _RangeHandler.seen[-1] == "bytes=1000-"
        # Complete already: the server answers 416, and the file stays.
        assert lib.fetch_resumed(url, str(part), 10) == len(_RangeHandler.payload)
        # A connection closed early is an error, and the next try continues from there.
        part.write_bytes(b"")
        _RangeHandler.cut_after = 5000
        with pytest.raises(OSError, match="sent 5000 of"):
            lib.fetch_resumed(url, str(part), 10)
        _RangeHandler.cut_after = None
        assert lib.fetch_resumed(url, str(part), 10) == len(_RangeHandler.payload)
        assert part.read_bytes() == _RangeHandler.payload and _RangeHandler.seen[-1] == "bytes=5000-"
    finally:
        _RangeHandler.cut_after = None
        server.shutdown()
