"""Pure parts of the model fetcher (roles/model/files) and the progress line of its action."""
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


def test_check_space_names_the_fix(tmp_path):
    with pytest.raises(fetch.FetchError, match="free space or point model_root elsewhere"):
        fetch.check_space(str(tmp_path), 10 ** 18)


def test_progress_line():
    sys.path.insert(0, str(ROOT / "plugins" / "action"))
    try:
        from model_fetch import progress_line
    finally:
        sys.path.pop(0)
    line = progress_line("h1", {"phase": "downloading", "bytes_done": 157286430, "bytes_total": 314572860,
                                "files_done": 1, "files_total": 3, "rate_bytes_per_s": 12142888.5})
    assert line == "h1: downloading 157.3 MB / 314.6 MB (50%), files 1/3, 12.1 MB/s"
