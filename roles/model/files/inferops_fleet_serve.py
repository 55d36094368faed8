#!/usr/bin/env python3
"""Serve one model directory to the hosts of a fleet copy, and to nobody else.

The model role starts this on the fleet seed for the length of one copy (systemd-run, a
dynamic user, read-only system), bound to the address the peers use. Every request must carry
this run's token (Authorization: Bearer); only its sha256 is given here, so the command line
shows nothing usable. Only regular files under --directory are served (no listing, no path
out of it, no huggingface_hub cache), with HTTP Range so that interrupted copies resume.

usage: inferops_fleet_serve.py --bind IP --port N --directory DIR --token-sha256 HEX
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import posixpath
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1024 * 1024


def resolve(root, url_path):
    """The file under root that url_path names, or None (outside root, hidden cache, not a file)."""
    path = posixpath.normpath(urllib.parse.unquote(urllib.parse.urlsplit(url_path).path))
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in ("..", ".cache") for p in parts):
        return None
    candidate = os.path.realpath(os.path.join(root, *parts))
    if os.path.commonpath([candidate, root]) != root or not os.path.isfile(candidate):
        return None
    return candidate


def byte_range(header, size):
    """(start, end) inclusive for a 'bytes=N-' or 'bytes=N-M' header, None for the whole file,
    or False when it cannot be satisfied."""
    if not header:
        return None
    unit, spec = header.partition("=")[::2]
    first, last = spec.partition("-")[::2]
    if unit.strip() != "bytes" or not first.isdigit() or (last and not last.isdigit()):
        return None
    start, end = int(first), int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def make_handler(root, token_sha256):
    # BaseHTTPRequestHandler logs one line per request to stderr: the unit's journal.
    class Handler(BaseHTTPRequestHandler):
        server_version = "inferops-fleet"

        def _authorized(self):
            scheme, token = (self.headers.get("Authorization") or "").partition(" ")[::2]
            digest = hashlib.sha256(token.strip().encode()).hexdigest()
            return scheme == "Bearer" and hmac.compare_digest(digest, token_sha256)

        def _send(self, head_only):
            if not self._authorized():
                self.send_error(401, "a fleet token is required")
                return
            path = resolve(root, self.path)
            if path is None:
                self.send_error(404)
                return
            size = os.path.getsize(path)
            wanted = byte_range(self.headers.get("Range"), size)
            if wanted is False:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            start, end = wanted or (0, size - 1)
            self.send_response(206 if wanted else 200)
            if wanted:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(end - start + 1 if size else 0))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if head_only or not size:
                return
            with open(path, "rb") as handle:
                handle.seek(start)
                remaining = end - start + 1
                while remaining > 0:
                    chunk = handle.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._send(head_only=False)

        def do_HEAD(self):  # noqa: N802
            self._send(head_only=True)

        def _refuse(self):
            self.send_error(405)

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    return Handler


def serve(bind, port, directory, token_sha256):
    server = ThreadingHTTPServer((bind, port), make_handler(os.path.realpath(directory), token_sha256.lower()))
    server.daemon_threads = True
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--token-sha256", required=True)
    args = parser.parse_args(argv)
    if len(args.token_sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in args.token_sha256):
        parser.error("--token-sha256 must be 64 hex digits")
    if not os.path.isdir(args.directory):
        parser.error(f"{args.directory} is not a directory")
    serve(args.bind, args.port, args.directory, args.token_sha256).serve_forever()


if __name__ == "__main__":
    main()
