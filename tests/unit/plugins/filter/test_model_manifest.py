import pytest
from ansible_collections.inferops.inference.plugins.filter.model_manifest import model_manifest


def test_manifest_is_relative_sorted_and_skips_own_records():
    files = [
        {"path": "/m/tiny/tokenizer.json", "size": 10, "mtime": 5.7},
        {"path": "/m/tiny/config.json", "size": 3, "mtime": 1.0},
        {"path": "/m/tiny/sub/a.bin", "size": 1, "mtime": 2},
        {"path": "/m/tiny/.inferops-model.json", "size": 99, "mtime": 9},
    ]
    assert model_manifest(files, "/m/tiny/") == [
        {"path": "config.json", "size": 3, "mtime": 1},
        {"path": "sub/a.bin", "size": 1, "mtime": 2},
        {"path": "tokenizer.json", "size": 10, "mtime": 5},
    ]


def test_same_model_elsewhere_gives_the_same_manifest():
    a = [{"path": "/x/m/config.json", "size": 3, "mtime": 1}]
    b = [{"path": "/y/z/m/config.json", "size": 3, "mtime": 1}]
    assert model_manifest(a, "/x/m") == model_manifest(b, "/y/z/m")


def test_a_file_outside_the_root_is_an_error():
    with pytest.raises(ValueError, match="not under"):
        model_manifest([{"path": "/other/config.json", "size": 1, "mtime": 0}], "/m")
