"""Pure parts of the model fetcher (roles/model/files/inferops_model_fetch.py), a script the role
installs on the host; the progress line of its action is tested in tests/unit/plugins/action."""
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch = _load("inferops_model_fetch", ROOT / "roles" / "model" / "files" / "inferops_model_fetch.py")


def test_modelscope_command_and_environment():
    argv, env = fetch.modelscope_command(
        {"repo": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "revision": "master", "allow_patterns": ["*.json"],
         "ignore_patterns": ["*.pth"], "modelscope_domain": "www.modelscope.cn", "token": "ms-secret"},
        "/srv/models/q7b", "/opt/t/venv/bin/modelscope")
    assert argv == ["/opt/t/venv/bin/modelscope", "download", "--model", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
                    "--revision", "master", "--local_dir", "/srv/models/q7b", "--include", "*.json",
                    "--exclude", "*.pth"]
    assert env == {"MODELSCOPE_DOMAIN": "www.modelscope.cn", "MODELSCOPE_API_TOKEN": "ms-secret"}
    assert "ms-secret" not in " ".join(argv)  # the token travels in the environment only


def test_select_patterns():
    names = ["config.json", "model-00001.safetensors", "original/consolidated.pth", "README.md"]
    assert fetch.select(names, [], ["*.pth"]) == ["config.json", "model-00001.safetensors", "README.md"]
    assert fetch.select(names, ["*.json", "*.safetensors"], []) == ["config.json", "model-00001.safetensors"]


def test_matches_accepts_sha256_or_git_blob_etags(tmp_path):
    data = b"hello model\n"
    path = tmp_path / "f"
    path.write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert fetch.matches({"size": len(data), "etag": sha256}, str(path))  # LFS files
    assert fetch.matches({"size": len(data), "etag": blob}, str(path))  # plain git files
    assert not fetch.matches({"size": len(data), "etag": "0" * 64}, str(path))
    assert not fetch.matches({"size": len(data) + 1, "etag": sha256}, str(path))


def test_still_complete_rehashes_only_changed_files(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"x" * 100)
    item = {"path": "w.safetensors", "size": 100, "sha256": hashlib.sha256(b"x" * 100).hexdigest(),
            "mtime": int(path.stat().st_mtime)}
    assert fetch.still_complete(str(tmp_path), {"files": [item]})
    path.write_bytes(b"y" * 100)  # same size, new content and mtime
    item_stale = dict(item, mtime=item["mtime"] - 10)
    assert not fetch.still_complete(str(tmp_path), {"files": [item_stale]})
    assert not fetch.still_complete(str(tmp_path), {"files": [item]}, full=True)


def test_interrupted_run_is_never_complete(tmp_path):
    assert fetch.read_manifest(tmp_path) is None
    fetch.write_manifest(tmp_path, {"files": []})
    assert json.loads((tmp_path / ".inferops-model.json").read_text()) == {"files": []}
    assert not (tmp_path / ".inferops-model.json.tmp").exists()


def test_the_tree_listing_gives_what_a_downloads_etag_would(tmp_path):
    """LFS files are checked by their content's sha256 (the tree's blob_id is the pointer's),
    other files by their git blob sha1, as the Hub's ETags name them."""
    from types import SimpleNamespace

    data = b"weights" * 100
    (tmp_path / "model.safetensors").write_bytes(data)
    (tmp_path / "config.json").write_bytes(b"{}\n")
    lfs_file = SimpleNamespace(path="model.safetensors", size=len(data), blob_id="a" * 40,  # the pointer's
                               lfs={"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pointer_size": 134})
    plain = SimpleNamespace(path="config.json", size=3, blob_id=hashlib.sha1(b"blob 3\0{}\n").hexdigest(), lfs=None)
    for entry in (lfs_file, plain):
        assert fetch.matches(fetch.expected_of(entry), str(tmp_path / entry.path)), entry
    assert fetch.expected_of(lfs_file)["etag"] == hashlib.sha256(data).hexdigest()


def test_check_space_names_the_fix(tmp_path):
    with pytest.raises(fetch.FetchError, match="free space or point model_root elsewhere"):
        fetch.check_space(str(tmp_path), 10 ** 18)


def _fail(number):
    raise ValueError(number)


def test_in_parallel_overlaps_and_keeps_order():
    import threading

    barrier = threading.Barrier(4, timeout=5)  # only passes if 4 calls run at once

    def call(n):
        barrier.wait()
        return n * 2

    assert fetch.in_parallel(call, [1, 2, 3, 4], 4) == [2, 4, 6, 8]
    with pytest.raises(ValueError):
        fetch.in_parallel(_fail, [1, 2], 2)


def test_verify_hashes_once_and_names_bad_files(tmp_path):
    good, bad = tmp_path / "a.bin", tmp_path / "b.bin"
    good.write_bytes(b"x" * 1000)
    bad.write_bytes(b"y" * 1000)
    digest = hashlib.sha256(b"x" * 1000).hexdigest()
    plan = {"files": [{"path": "a.bin", "size": 1000, "etag": digest},
                      {"path": "b.bin", "size": 1000, "etag": "0" * 64}]}

    class Quiet:
        def update(self, **_):
            pass

    assert fetch.verify(plan, str(tmp_path), Quiet(), workers=2) == ["b.bin"]
    # The record takes the hash verify found instead of reading the file again.
    assert plan["files"][0]["sha256"] == digest


def test_peer_files_are_fetched_concurrently_over_http(tmp_path):
    import functools
    import http.server
    import threading

    seed, peer = tmp_path / "seed", tmp_path / "peer"
    seed.mkdir()
    files = []
    for n in range(6):
        data = bytes([n]) * (100_000 + n)
        (seed / f"f{n}.safetensors").write_bytes(data)
        files.append({"path": f"f{n}.safetensors", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(seed))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Recorder:
        state = {"resumed_bytes": 0}

        def update(self, **values):
            self.state.update(values)

    progress = Recorder()
    (peer / "f5.safetensors").parent.mkdir(parents=True)
    (peer / "f5.safetensors").write_bytes(b"\0" * 100)  # a corrupt leftover, fetched again
    try:
        checked = fetch.fetch_http_files(f"http://127.0.0.1:{server.server_port}", {"files": files}, str(peer), progress, 3)
    finally:
        server.shutdown()
    assert progress.state["files_done"] == 6
    # Each file was checked as it landed: nothing is left for the verify phase to hash.
    assert checked == {f["path"] for f in files}
    assert fetch.verify({"files": files}, str(peer), progress) == []


def test_verify_leaves_out_what_was_checked_as_it_landed(tmp_path, monkeypatch):
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "b.bin").write_bytes(b"b")
    plan = {"files": [{"path": "a.bin", "size": 1, "etag": "0" * 64}, {"path": "b.bin", "size": 1, "etag": "0" * 64}]}
    hashed = []
    real = fetch.file_hashes
    monkeypatch.setattr(fetch, "file_hashes", lambda path, blob=True: hashed.append(path) or real(path, blob))

    class Quiet:
        def update(self, **_):
            pass

    assert fetch.verify(plan, str(tmp_path), Quiet(), checked={"a.bin"}) == ["b.bin"]
    assert hashed == [str(tmp_path / "b.bin")]


def test_a_sha256_check_hashes_once_a_git_blob_check_both(tmp_path):
    data = b"weights"
    path = tmp_path / "w"
    path.write_bytes(data)
    assert fetch.file_hashes(str(path), blob=False) == (hashlib.sha256(data).hexdigest(), None)
    assert fetch.file_hashes(str(path))[1] == hashlib.sha1(b"blob 7\0" + data).hexdigest()


def test_progress_survives_many_writers(tmp_path):
    import threading

    status = tmp_path / "status.json"
    errors = []

    def write(progress):
        try:
            for n in range(200):
                progress.update(files_done=n)
        except OSError as err:  # two writers racing on the same temporary file
            errors.append(err)

    with fetch.Progress(str(status)) as progress:
        threads = [threading.Thread(target=write, args=(progress,)) for dummy in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert json.loads(status.read_text())["files_done"] == 199


def test_progress_times_each_phase(tmp_path, monkeypatch):
    """The benchmark splits a fetch by phase: each phase's seconds, and when it finished."""
    now = [100.0]
    monkeypatch.setattr(fetch.time, "time", lambda: now[0])
    progress = fetch.Progress(str(tmp_path / "status.json"))
    for at, values in ((103.5, {"phase": "downloading"}), (105.0, {"files_done": 1}),  # not a new phase
                       (110.0, {"phase": "verifying"}), (111.25, {"phase": "done"})):
        now[0] = at
        progress.update(**values)
    state = json.loads((tmp_path / "status.json").read_text())
    assert state["phase_seconds"] == {"planning": 3.5, "downloading": 6.5, "verifying": 1.25}
    assert state["finished"] == 111.25


def test_main_deletes_the_spec_once_read(tmp_path, monkeypatch):
    """The spec may carry a token: gone from disk before the fetch runs (a play that fails
    before its wait leaves nothing behind)."""
    spec = tmp_path / "m.spec.json"
    spec.write_text(json.dumps({"source": "hf", "dir": str(tmp_path / "m"), "token": "hf_secret"}))
    seen = {}

    def fake_run(request, status):
        seen["spec_on_disk"] = spec.exists()
        seen["token"] = request["token"]
        return {"changed": False, "record": {}}
    monkeypatch.setattr(fetch, "run", fake_run)
    result = tmp_path / "m.result.json"
    assert fetch.main(["--spec", str(spec), "--status", str(tmp_path / "s.json"), "--result", str(result)]) == 0
    assert seen == {"spec_on_disk": False, "token": "hf_secret"}
    assert json.loads(result.read_text())["failed"] is False
