# Copyright: (c) 2026, inferops.inference contributors
# Apache License 2.0 (see LICENSE)
"""Offline bundles: the manifest that lists every file with its size and sha256, and the check
of a bundle directory or tarball against it (module inferops.inference.bundle, unit tested).

A bundle is trusted only as far as its manifest: every file must be listed with the size and
hash it was built with, and no file may be added (a wheel dropped into the wheelhouse would be
installed: find-links picks the highest version it sees).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import urllib.error

from ansible.module_utils.urls import open_url

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.asc"
# Written on a host next to the files, never part of the bundle itself.
HOST_RECORD = ".inferops-bundle.json"
NOT_LISTED = (MANIFEST, SUMS, SIGNATURE, HOST_RECORD)
CHUNK = 1 << 20


def sha256_stream(stream):
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path):
    with open(path, "rb") as stream:
        return sha256_stream(stream)


def walk(root):
    """Relative paths of the regular files under root, sorted; symlinks are refused (a link
    could point out of the bundle)."""
    found, links = [], []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in files + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                links.append(rel)
            elif rel not in NOT_LISTED:
                found.append(rel)
    return sorted(found), sorted(links)


def build_manifest(root, metadata):
    """The manifest of the directory root: metadata plus every file's size and sha256."""
    files, links = walk(root)
    if links:
        raise ValueError(f"symbolic links are not allowed in a bundle: {', '.join(links)}")
    listed = {rel: {"size": os.path.getsize(os.path.join(root, rel)), "sha256": sha256_file(os.path.join(root, rel))}
              for rel in files}
    return {"format": 1, **metadata, "files": listed,
            "total_bytes": sum(entry["size"] for entry in listed.values())}


def manifest_text(manifest):
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def sums_text(manifest, manifest_sha256):
    """sha256sum's format: the manifest first, then every file (`sha256sum -c SHA256SUMS` works)."""
    lines = [f"{manifest_sha256}  {MANIFEST}"]
    lines += [f"{entry['sha256']}  {rel}" for rel, entry in sorted(manifest["files"].items())]
    return "\n".join(lines) + "\n"


def parse_sums(text):
    sums = {}
    for line in text.splitlines():
        if line.strip():
            digest, _sep, rel = line.partition("  ")
            sums[rel.lstrip("*")] = digest.strip().lower()
    return sums


def compare(manifest, manifest_sha256, sums, found):
    """Problems of a bundle, one line each naming the file: found maps the relative path of
    every file present to (size, sha256 or None when not yet hashed)."""
    problems = []
    if sums.get(MANIFEST) != manifest_sha256:
        problems.append(f"{MANIFEST}: its sha256 is not the one {SUMS} lists (the manifest was edited)")
    listed = manifest.get("files", {})
    for rel, entry in sorted(listed.items()):
        if sums.get(rel) != entry.get("sha256"):
            problems.append(f"{rel}: {SUMS} and {MANIFEST} disagree")
        if rel not in found:
            problems.append(f"{rel}: missing (an incomplete copy)")
            continue
        size, digest = found[rel]
        if size != entry.get("size"):
            problems.append(f"{rel}: {size} bytes, the manifest says {entry.get('size')} (truncated or replaced)")
        elif digest is not None and digest != entry.get("sha256"):
            problems.append(f"{rel}: sha256 differs from the manifest (corrupt or tampered)")
    for rel in sorted(set(found) - set(listed)):
        problems.append(f"{rel}: not in the manifest (files may not be added to a bundle)")
    return problems


def _read_json(text, what):
    try:
        value = json.loads(text)
    except ValueError as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def check_directory(root, record=None):
    """Check a bundle directory. With a record of an earlier complete check (sizes and mtimes),
    files whose size and mtime are unchanged are not hashed again. Returns (manifest, manifest
    sha256, problems, the new record)."""
    for meta in (MANIFEST, SUMS):
        if not os.path.isfile(os.path.join(root, meta)):
            return None, None, [f"{meta}: missing (not a bundle, or an incomplete copy)"], None
    with open(os.path.join(root, MANIFEST), "rb") as stream:
        raw = stream.read()
    manifest_sha256 = hashlib.sha256(raw).hexdigest()
    manifest = _read_json(raw, MANIFEST)
    with open(os.path.join(root, SUMS), encoding="utf-8") as stream:
        sums = parse_sums(stream.read())
    files, links = walk(root)
    known = (record or {}).get("files", {}) if (record or {}).get("manifest_sha256") == manifest_sha256 else {}
    found, stats = {}, {}
    for rel in files:
        info = os.stat(os.path.join(root, rel))
        stats[rel] = [info.st_size, info.st_mtime_ns]
        reuse = known.get(rel) == stats[rel]
        entry = manifest.get("files", {}).get(rel, {})
        found[rel] = (info.st_size, entry.get("sha256") if reuse else None)
    # Hash only what the sizes did not already condemn.
    for rel, (size, digest) in found.items():
        entry = manifest.get("files", {}).get(rel)
        if digest is None and entry and size == entry.get("size"):
            found[rel] = (size, sha256_file(os.path.join(root, rel)))
    problems = [f"{rel}: a symbolic link (not allowed in a bundle)" for rel in links]
    problems += compare(manifest, manifest_sha256, sums, found)
    new_record = None if problems else {"manifest_sha256": manifest_sha256, "files": stats}
    return manifest, manifest_sha256, problems, new_record


def check_tarball(path):
    """Check a bundle tarball without unpacking it: one top folder holding the bundle, only
    regular files and folders, nothing outside it."""
    found, meta, problems, top = {}, {}, [], None
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.name.startswith("/") or ".." in parts:
                problems.append(f"{member.name}: a path outside the bundle")
                continue
            top = top or parts[0]
            if parts[0] != top:
                problems.append(f"{member.name}: outside the bundle's folder {top}/")
                continue
            if member.isdir():
                continue
            rel = "/".join(parts[1:])
            if not member.isfile():
                problems.append(f"{rel or member.name}: not a regular file (links are not allowed in a bundle)")
                continue
            stream = tar.extractfile(member)
            if rel in (MANIFEST, SUMS, SIGNATURE):
                meta[rel] = stream.read()
            elif rel != HOST_RECORD:
                found[rel] = (member.size, sha256_stream(stream))
    for name in (MANIFEST, SUMS):
        if name not in meta:
            return None, None, problems + [f"{name}: missing (not a bundle, or an incomplete archive)"], top, meta
    manifest_sha256 = hashlib.sha256(meta[MANIFEST]).hexdigest()
    manifest = _read_json(meta[MANIFEST], MANIFEST)
    problems += compare(manifest, manifest_sha256, parse_sums(meta[SUMS].decode("utf-8")), found)
    return manifest, manifest_sha256, problems, top, meta


def summary(manifest):
    """The manifest without its file list: what a play reports and checks hosts against."""
    return {key: value for key, value in (manifest or {}).items() if key != "files"}


def fetch_resumed(url, part, timeout):
    """Download url into the file part, continuing from its current size with a Range request
    (a server that ignores Range sends the whole file again, which replaces it). Returns the
    final size. Raises OSError (urllib's errors are OSErrors) for the caller to retry."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    try:
        response = open_url(url, headers={"Range": f"bytes={have}-"} if have else {}, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            return have
        raise
    with response:
        mode = "ab" if have and response.status == 206 else "wb"
        with open(part, mode) as stream:
            for block in iter(lambda: response.read(CHUNK), b""):
                stream.write(block)
    return os.path.getsize(part)
