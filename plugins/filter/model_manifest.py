"""Describe a model directory as a manifest: what a complete copy must contain."""

from __future__ import annotations

import base64
import json
import os


def model_manifest(files, root):
    """Turn ansible.builtin.find results into a sorted manifest of {path, size, mtime}.

    Paths are relative to root so that manifests of the same model in different places
    compare equal. mtime is rounded to whole seconds: copies keep it only that precisely.
    """
    root = os.path.normpath(str(root))
    manifest = []
    for item in files:
        path = os.path.normpath(item["path"])
        rel = os.path.relpath(path, root)
        if rel.startswith(".."):
            raise ValueError(f"{path} is not under {root}")
        if os.path.basename(rel).startswith(".inferops-"):
            continue  # our own records never describe the model
        manifest.append({"path": rel, "size": int(item["size"]), "mtime": int(float(item.get("mtime", 0)))})
    return sorted(manifest, key=lambda entry: entry["path"])


def _entries(manifest):
    """The file entries of a manifest (a list) or of a model record ({"files": [...]})."""
    if isinstance(manifest, dict):
        manifest = manifest.get("files", [])
    if not isinstance(manifest, list):
        raise ValueError("a manifest is a list of file entries or a record with a files list")
    return manifest


def model_record_matches(record, expected, keys=None):
    """Whether a slurped record (base64 content, or none when the file is missing) describes
    the same files as expected (a manifest or another record).

    keys: the fields compared per file (e.g. [path, sha256] between hosts, whose mtimes
    differ); none compares whole entries. A record that is missing or not JSON never matches.
    """
    if not record:
        return False
    try:
        own = json.loads(base64.b64decode(record))
    except (ValueError, TypeError):
        return False
    try:
        mine, theirs = _entries(own), _entries(expected)
    except ValueError:
        return False
    if keys:
        mine = [[entry.get(key) for key in keys] for entry in mine]
        theirs = [[entry.get(key) for key in keys] for entry in theirs]
    return mine == theirs


class FilterModule:
    def filters(self):
        return {"model_manifest": model_manifest, "model_record_matches": model_record_matches}
