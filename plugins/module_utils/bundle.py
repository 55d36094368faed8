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
import re
import tarfile
import urllib.error

from ansible.module_utils.urls import open_url

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.asc"
NOT_LISTED = (MANIFEST, SUMS, SIGNATURE)
# Writable by group or others, setuid or setgid: after the check, anyone but root could then
# change a file of the bundle (a wheel find-links would pick, a deb apt installs as root).
LOOSE_MODE = 0o6022
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
    """Relative paths of the regular files under root, sorted, and problems: symlinks (a link
    could point out of the bundle) and files or folders anyone but root could change."""
    found, problems = [], []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        if os.lstat(base).st_mode & LOOSE_MODE:
            problems.append(f"{os.path.relpath(base, root)}/: writable by group or others (chmod -R go-w)")
        for name in files + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, root)
            info = os.lstat(full)
            if os.path.islink(full):
                problems.append(f"{rel}: a symbolic link (not allowed in a bundle)")
            elif info.st_mode & LOOSE_MODE:
                problems.append(f"{rel}: writable by group or others, or setuid (chmod -R go-w,ug-s)")
            elif rel not in NOT_LISTED:
                found.append(rel)
    return sorted(found), problems


def build_manifest(root, metadata):
    """The manifest of the directory root: metadata plus every file's size and sha256."""
    files, problems = walk(root)
    if problems:
        raise ValueError("; ".join(problems))
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
    """Check a bundle directory. With a record of an earlier complete check of the same folder
    and manifest (sizes and mtimes; kept outside the bundle, where only root writes), files
    whose size and mtime are unchanged are not hashed again. Returns (manifest, manifest sha256,
    problems, the new record)."""
    for meta in (MANIFEST, SUMS):
        if not os.path.isfile(os.path.join(root, meta)):
            return None, None, [f"{meta}: missing (not a bundle, or an incomplete copy)"], None
    with open(os.path.join(root, MANIFEST), "rb") as stream:
        raw = stream.read()
    manifest_sha256 = hashlib.sha256(raw).hexdigest()
    manifest = _read_json(raw, MANIFEST)
    with open(os.path.join(root, SUMS), encoding="utf-8") as stream:
        sums = parse_sums(stream.read())
    files, loose = walk(root)
    record = record or {}
    same = record.get("manifest_sha256") == manifest_sha256 and record.get("path") == os.path.abspath(root)
    known = record.get("files", {}) if same else {}
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
    problems = loose + compare(manifest, manifest_sha256, sums, found)
    new_record = None if problems else {"path": os.path.abspath(root), "manifest_sha256": manifest_sha256, "files": stats}
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
            rel = "/".join(parts[1:])
            if member.mode & LOOSE_MODE:
                problems.append(f"{rel or member.name}: writable by group or others, or setuid, in the archive")
            if member.isdir():
                continue
            if not member.isfile():
                problems.append(f"{rel or member.name}: not a regular file (links are not allowed in a bundle)")
                continue
            stream = tar.extractfile(member)
            if rel in (MANIFEST, SUMS, SIGNATURE):
                meta[rel] = stream.read()
            else:
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
        resumed = bool(have) and response.status == 206
        expected = expected_size(response.headers, have if resumed else 0)
        with open(part, "ab" if resumed else "wb") as stream:
            for block in iter(lambda: response.read(CHUNK), b""):
                stream.write(block)
    size = os.path.getsize(part)
    # A connection closed early ends the read without an error: resume from here next try.
    if expected is not None and size < expected:
        raise OSError(f"the server sent {size} of {expected} bytes")
    return size


def expected_size(headers, offset):
    """The whole file's size a response announces: Content-Range's total, or the offset plus
    Content-Length; None when it says neither."""
    match = re.match(r"bytes \d+-\d+/(\d+)", headers.get("Content-Range") or "")
    if match:
        return int(match.group(1))
    length = headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None
