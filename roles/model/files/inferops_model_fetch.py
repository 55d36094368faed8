#!/usr/bin/env python3
"""Fetch a model directory, resumably and verifiably, reporting progress to a status file.

Runs on the inference host in the model tools venv (huggingface_hub, optionally modelscope).
Called by the action plugin inferops.inference.model_fetch, which polls --status and prints
progress in the play. Sources:

  hf         Hugging Face or a mirror of it (HF_ENDPOINT, e.g. hf-mirror.com or olah)
  modelscope ModelScope's CLI (its service is unreachable from the test lab)
  url        an HTTP(S) archive (.tar.gz, .tgz, .zip) with a sha256
  peer       another inference host's complete copy (fleet mode: one internet download)

A copy is complete only when every file matched its expected size and hash; only then is
<dir>/.inferops-model.json written. A directory without it is never served as complete.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MANIFEST = ".inferops-model.json"
CHUNK = 8 * 1024 * 1024
# Files fetched (and hashed) at once: huggingface_hub's snapshot_download uses 8 as well.
WORKERS = 8


class FetchError(Exception):
    """A failure the operator can act on; the message names the variable to fix."""


# ---------------------------------------------------------------- hashing and manifests
def file_hashes(path, blob=True):
    """sha256 and git blob sha1 of a file in one pass (HF etags are one or the other); without
    blob, the sha256 only (None for the blob), which is all an LFS file's check needs."""
    sha256, blob_sha = hashlib.sha256(), (hashlib.sha1() if blob else None)
    if blob_sha:
        blob_sha.update(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            sha256.update(chunk)
            if blob_sha:
                blob_sha.update(chunk)
    return sha256.hexdigest(), (blob_sha.hexdigest() if blob_sha else None)


def matches(expected, path):
    """True when the local file has the expected size and (if known) hash. The sha256 found is
    kept in expected, so that the record does not hash the file again."""
    if not os.path.isfile(path) or os.path.getsize(path) != expected["size"]:
        return False
    want = expected.get("sha256") or expected.get("etag")
    if not want:
        return True
    # A 64-digit hash is a sha256: the weights' check then costs one hash, not two.
    sha256, blob = file_hashes(path, blob=len(want) != 64)
    if want not in (sha256, blob):
        return False
    expected["sha256"] = sha256
    return True


def in_parallel(function, items, workers):
    """function(item) for every item on a pool of threads (downloads wait on the network and
    hashlib releases the GIL), results in order; the first exception is raised."""
    workers = max(1, min(int(workers or 1), len(items) or 1))
    if workers == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def read_manifest(directory):
    try:
        return json.loads((Path(directory) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def write_manifest(directory, record):
    tmp = Path(directory) / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.chmod(tmp, 0o644)
    tmp.replace(Path(directory) / MANIFEST)


def make_readable(directory):
    """Files 0644, directories 0755: any service account may read, none may write."""
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    os.chmod(directory, 0o755)


def select(names, allow, ignore):
    keep = [n for n in names if not allow or any(fnmatch.fnmatch(n, p) for p in allow)]
    return [n for n in keep if not any(fnmatch.fnmatch(n, p) for p in ignore)]


# ---------------------------------------------------------------- progress
class Progress:
    """Writes {phase, bytes_done, bytes_total, files_done, files_total, rate} every second."""

    def __init__(self, status_path):
        self.path = status_path
        self.state = {"phase": "planning", "bytes_done": 0, "bytes_total": 0, "files_done": 0,
                      "files_total": 0, "rate_bytes_per_s": 0.0, "started": time.time(), "resumed_bytes": 0,
                      "phase_seconds": {}}
        # Where the time of a fetch goes (planning, downloading, verifying, ...): the
        # benchmark compares the fetcher with a plain client phase by phase.
        self._phase_began = self.state["started"]
        self.measure = None
        # Downloads run on several threads, and the loop below writes every second too.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.flush()

    def update(self, **values):
        with self._lock:
            if values.get("phase", self.state["phase"]) != self.state["phase"]:
                now = time.time()
                spent = self.state["phase_seconds"]
                spent[self.state["phase"]] = round(spent.get(self.state["phase"], 0) + now - self._phase_began, 2)
                self._phase_began = now
                if values["phase"] == "done":
                    self.state["finished"] = now
            self.state.update(values)
            self.flush()

    def flush(self):
        with self._lock:
            elapsed = max(time.time() - self.state["started"], 1e-3)
            transferred = self.state["bytes_done"] - self.state.get("resumed_bytes", 0)
            self.state["rate_bytes_per_s"] = round(max(transferred, 0) / elapsed, 1)
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.state, handle)
            os.replace(tmp, self.path)

    def _loop(self):
        while not self._stop.wait(1.0):
            if self.measure:
                done = self.measure()
                with self._lock:
                    self.state["bytes_done"] = done
            self.flush()


# ---------------------------------------------------------------- HTTP with resume
def http_fetch(url, dest, size=None, headers=None, on_chunk=None):
    """Download url to dest, resuming dest.part with a Range request."""
    part = dest + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    if size is not None and have > size:
        os.remove(part)
        have = 0
    request = urllib.request.Request(url, headers=dict(headers or {}))
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (URLs are the operator's)
        if have and response.status != 206:
            have = 0  # the server ignored the range: start over
        with open(part, "ab" if have else "wb") as handle:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                handle.write(chunk)
                if on_chunk:
                    on_chunk(len(chunk))
    os.replace(part, dest)
    return have


def dir_bytes(*paths):
    total = 0
    for base in paths:
        for root, _dirs, files in os.walk(base):
            for name in files:
                try:
                    total += os.path.getsize(os.path.join(root, name))
                except OSError:
                    pass
    return total


def check_space(directory, needed):
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise FetchError(f"{needed / 1e9:.1f} GB still to download but only {free / 1e9:.1f} GB free under "
                         f"{directory}: free space or point model_root elsewhere")


# ---------------------------------------------------------------- sources
def plan_hf(spec):
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=spec["endpoint"], token=spec.get("token") or False)
    try:
        info = api.model_info(spec["repo"], revision=spec["revision"])
    except HfHubHTTPError as err:
        raise FetchError(f"revision '{spec['revision']}' of {spec['repo']} was not found at {spec['endpoint']} "
                         f"({err.__class__.__name__}): check model_repo and model_revision") from err
    names = select([s.rfilename for s in info.siblings], spec["allow_patterns"], spec["ignore_patterns"])
    if not names:
        raise FetchError(f"no file of {spec['repo']} matches model_allow_patterns/model_ignore_patterns")
    # Sizes and hashes of every file in one listing; a HEAD per file is a round trip each
    # (hundreds for a large model) and the client does its own HEAD again before each download.
    try:
        tree = {entry.path: expected_of(entry)
                for entry in api.list_repo_tree(spec["repo"], revision=info.sha, recursive=True)
                if getattr(entry, "size", None) is not None}
    except HfHubHTTPError:  # a mirror without the tree API: ask file by file
        tree = {}

    def head(name):
        meta = get_hf_file_metadata(hf_hub_url(spec["repo"], name, revision=info.sha, endpoint=spec["endpoint"]),
                                    token=spec.get("token") or False)
        return {"size": meta.size, "etag": (meta.etag or "").strip('"')}

    missing = [name for name in names if name not in tree]
    tree.update(zip(missing, in_parallel(head, missing, spec.get("workers") or WORKERS)))
    files = [{"path": name, **tree[name]} for name in names]
    return {"source": "hf", "repo": spec["repo"], "revision": info.sha, "files": files}


def expected_of(entry):
    """Size and hash of a file of the Hub's tree listing, as a download's ETag gives them: the
    sha256 of an LFS file's content, else the git blob sha1 (an LFS file's blob_id is its
    pointer's)."""
    lfs = getattr(entry, "lfs", None)
    sha256 = lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None)
    return {"size": entry.size, "etag": sha256 or entry.blob_id}


def fetch_hf(spec, plan, directory, progress):
    from huggingface_hub import hf_hub_download

    cache = os.path.join(directory, ".cache", "huggingface")
    progress.measure = lambda: sum(os.path.getsize(os.path.join(directory, f["path"]))
                                   for f in plan["files"] if os.path.isfile(os.path.join(directory, f["path"]))) \
        + dir_bytes(os.path.join(cache, "download"))
    lock = threading.Lock()
    verified = set()

    def one(item):
        target = os.path.join(directory, item["path"])
        good = matches(item, target)
        if not good:
            with lock:
                if os.path.exists(target):
                    progress.state.setdefault("refetched", []).append(item["path"])
                forget(directory, [item["path"]])  # a stale or corrupt copy must not pass as up to date
            hf_hub_download(spec["repo"], item["path"], revision=plan["revision"], local_dir=directory,
                            endpoint=spec["endpoint"], token=spec.get("token") or False)
            # Checked as it lands, while the other workers still download: a large model's
            # check then hides behind its download instead of following it.
            good = matches(item, target)
        with lock:
            if good:
                verified.add(item["path"])
            progress.update(files_done=progress.state.get("files_done", 0) + 1)

    progress.update(files_done=0)
    in_parallel(one, plan["files"], spec.get("workers") or WORKERS)
    return verified


def peer_headers(spec):
    """The fleet seed serves only to holders of this run's token."""
    return {"Authorization": "Bearer " + spec["peer_token"]} if spec.get("peer_token") else {}


def plan_peer(spec):
    url = spec["peer_url"].rstrip("/") + "/" + MANIFEST
    try:
        request = urllib.request.Request(url, headers=peer_headers(spec))
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            record = json.load(response)
    except OSError as err:
        raise FetchError(f"the fleet seed has no complete copy at {url} ({err}): run the seed host first") from err
    return {"source": "peer", "repo": record.get("repo"), "revision": record.get("revision"),
            "files": [{"path": f["path"], "size": f["size"], "sha256": f["sha256"]} for f in record["files"]],
            "upstream": record.get("source")}


def fetch_http_files(base_url, plan, directory, progress, workers=WORKERS, headers=None):
    done = {"bytes": 0}
    lock = threading.Lock()

    def add(n):
        with lock:
            done["bytes"] += n
            progress.state["bytes_done"] = done["bytes"]

    verified = set()

    def one(item):
        target = os.path.join(directory, item["path"])
        good = matches(item, target)
        if good:
            add(item["size"])
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            resumed = http_fetch(base_url.rstrip("/") + "/" + urllib.parse.quote(item["path"]), target, item["size"],
                                 headers=headers, on_chunk=add)
            add(resumed)
            with lock:
                progress.state["resumed_bytes"] += resumed
            good = matches(item, target)  # checked as it lands (see fetch_hf)
        with lock:
            if good:
                verified.add(item["path"])
            progress.update(files_done=progress.state.get("files_done", 0) + 1)

    progress.update(files_done=0)
    in_parallel(one, plan["files"], workers)
    return verified


def plan_url(spec):
    return {"source": "url", "url": spec["url"], "revision": spec["sha256"], "files": None}


def fetch_url(spec, directory, progress):
    archive = os.path.join(spec["cache_dir"], os.path.basename(spec["url"].split("?")[0]))
    os.makedirs(spec["cache_dir"], exist_ok=True)
    if not (os.path.isfile(archive) and file_hashes(archive, blob=False)[0] == spec["sha256"]):
        resumed = http_fetch(spec["url"], archive,
                             on_chunk=lambda n: progress.state.__setitem__("bytes_done", progress.state["bytes_done"] + n))
        progress.state["resumed_bytes"] = resumed
        digest = file_hashes(archive, blob=False)[0]
        if digest != spec["sha256"]:
            os.remove(archive)
            raise FetchError(f"{spec['url']} has sha256 {digest}, not model_url_sha256 {spec['sha256']}")
    progress.update(phase="unpacking")
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(directory)
    else:
        with tarfile.open(archive) as tarred:
            tarred.extractall(directory, filter="data")
    files = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory)
            if rel.startswith(".cache") or rel == MANIFEST:
                continue
            files.append({"path": rel, "size": os.path.getsize(path), "sha256": file_hashes(path, blob=False)[0]})
    return sorted(files, key=lambda f: f["path"])


def modelscope_command(spec, directory, modelscope_bin="modelscope"):
    """The ModelScope CLI call and its environment (its service is unreachable from the lab)."""
    argv = [modelscope_bin, "download", "--model", spec["repo"], "--revision", spec["revision"],
            "--local_dir", directory]
    for pattern in spec.get("allow_patterns") or []:
        argv += ["--include", pattern]
    for pattern in spec.get("ignore_patterns") or []:
        argv += ["--exclude", pattern]
    env = {"MODELSCOPE_DOMAIN": spec["modelscope_domain"]} if spec.get("modelscope_domain") else {}
    if spec.get("token"):
        env["MODELSCOPE_API_TOKEN"] = spec["token"]
    return argv, env


def fetch_modelscope(spec, directory, progress):
    argv, env = modelscope_command(spec, directory, os.path.join(os.path.dirname(sys.executable), "modelscope"))
    progress.measure = lambda: dir_bytes(directory)
    proc = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise FetchError(f"modelscope download failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    files = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory)
            if not rel.startswith(".") and rel != MANIFEST:
                files.append({"path": rel, "size": os.path.getsize(path), "sha256": file_hashes(path, blob=False)[0]})
    return sorted(files, key=lambda f: f["path"])


# ---------------------------------------------------------------- main flow
def verify(plan, directory, progress, workers=WORKERS, checked=()):
    """The paths of the plan's files that do not match, leaving out those already checked."""
    progress.update(phase="verifying")
    todo = [item for item in plan["files"] if item["path"] not in checked]
    ok = in_parallel(lambda item: matches(item, os.path.join(directory, item["path"])), todo, workers)
    return [item["path"] for item, good in zip(todo, ok) if not good]


def forget(directory, names):
    """Remove corrupt files and huggingface_hub's metadata about them, so they are re-fetched."""
    for name in names:
        for path in (os.path.join(directory, name),
                     os.path.join(directory, ".cache", "huggingface", "download", name + ".metadata")):
            if os.path.exists(path):
                os.remove(path)


def still_complete(directory, record, full=False):
    """A recorded copy is intact: every file has its size, and its hash where it changed since
    it was recorded (mtime differs) or when a full check is asked for."""
    for item in record["files"]:
        path = os.path.join(directory, item["path"])
        if not os.path.isfile(path) or os.path.getsize(path) != item["size"]:
            return False
        if full or int(os.path.getmtime(path)) != item.get("mtime"):
            if file_hashes(path, blob=False)[0] != item["sha256"]:
                return False
    return True


def record_of(spec, plan, files):
    return {"source": spec["source"], "repo": plan.get("repo") or spec.get("repo") or spec.get("url"),
            "revision": plan["revision"], "requested_revision": spec.get("revision"),
            "files": [{"path": f["path"], "size": f["size"],
                       "sha256": f.get("sha256") or file_hashes(os.path.join(spec["dir"], f["path"]), blob=False)[0],
                       "mtime": int(os.path.getmtime(os.path.join(spec["dir"], f["path"])))}
                      for f in files]}


def run(spec, status_path):
    directory = spec["dir"]
    full_check = spec.get("verify") == "full"
    workers = spec.get("workers") or WORKERS
    os.makedirs(directory, exist_ok=True)
    with Progress(status_path) as progress:
        current = read_manifest(directory)
        if spec["source"] in ("url", "modelscope"):
            want = spec.get("sha256") if spec["source"] == "url" else spec.get("revision")
            if current and current.get("revision") == want and still_complete(directory, current, full_check):
                progress.update(phase="done", skipped=True)
                return {"changed": False, "record": current}
            progress.update(phase="downloading")
            files = fetch_url(spec, directory, progress) if spec["source"] == "url" else \
                fetch_modelscope(spec, directory, progress)
            plan = {"revision": want, "repo": spec.get("repo") or spec.get("url")}
        else:
            plan = plan_hf(spec) if spec["source"] == "hf" else plan_peer(spec)
            total = sum(f["size"] for f in plan["files"])
            progress.update(bytes_total=total, files_total=len(plan["files"]))
            if current and current.get("revision") == plan["revision"] and \
                    [(f["path"], f["size"]) for f in current["files"]] == [(f["path"], f["size"]) for f in plan["files"]] and \
                    still_complete(directory, current, full_check):
                progress.update(phase="done", skipped=True, bytes_done=total, files_done=len(plan["files"]))
                return {"changed": False, "record": current}
            if current:  # another revision or an edited copy: not complete until re-verified
                os.remove(os.path.join(directory, MANIFEST))
            present = sum(os.path.getsize(os.path.join(directory, f["path"])) for f in plan["files"]
                          if os.path.isfile(os.path.join(directory, f["path"])))
            check_space(directory, total - present)
            # Partial files of an interrupted run, which this run continues (HTTP Range).
            progress.update(phase="downloading", present_bytes=present,
                            resumed_bytes=dir_bytes(os.path.join(directory, ".cache", "huggingface", "download")))
            fetch = (lambda: fetch_hf(spec, plan, directory, progress)) if spec["source"] == "hf" else \
                (lambda: fetch_http_files(spec["peer_url"], plan, directory, progress, workers, peer_headers(spec)))
            bad = verify(plan, directory, progress, workers, checked=fetch())
            if bad:  # corrupted or truncated: fetch those again, once
                progress.update(phase="refetching", refetched=bad)
                forget(directory, bad)
                bad = verify(plan, directory, progress, workers, checked=fetch())
                if bad:
                    raise FetchError(f"files still do not match their expected size/hash after a re-fetch: {bad}")
            files = plan["files"]
        make_readable(directory)
        record = record_of(spec, plan, files)
        write_manifest(directory, record)
        progress.update(phase="done", bytes_done=progress.state.get("bytes_total") or sum(f["size"] for f in files),
                        files_done=len(files))
        return {"changed": True, "record": record}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--spec", required=True, help="JSON file with the request (may hold a token: 0600)")
    parser.add_argument("--status", required=True, help="progress JSON, rewritten every second")
    parser.add_argument("--result", required=True, help="final JSON result")
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.spec).read_text())
    # It may hold a token: kept in memory only from here on (a later failure of the play
    # leaves nothing on disk).
    Path(args.spec).unlink(missing_ok=True)
    if spec.get("hf_transfer_disable_xet", True):
        os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
    try:
        result = run(spec, args.status)
        result["failed"] = False
    except FetchError as err:
        result = {"failed": True, "msg": str(err)}
    except Exception as err:  # noqa: BLE001 - reported to the play, with its type
        result = {"failed": True, "msg": f"{err.__class__.__name__}: {err}"}
    tmp = args.result + ".tmp"
    Path(tmp).write_text(json.dumps(result))
    os.replace(tmp, args.result)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
