"""Describe a model directory as a manifest: what a complete copy must contain."""

from __future__ import annotations

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


class FilterModule:
    def filters(self):
        return {"model_manifest": model_manifest}
