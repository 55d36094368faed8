#!/usr/bin/env python3
"""Serve one directory to the hosts of a fleet copy, and to nobody else.

The inferops role's fleet_serve entry point starts this on a fleet seed for the length of one
copy (systemd-run, a dynamic user, read-only system), bound to the address the peers use: the
model role's verified model files, vllm_install's locked wheels. Every request must carry this
run's token, as "Authorization: Bearer TOKEN" (the model fetcher) or as HTTP Basic with the
token for password (pip and uv, from a netrc file); only its sha256 is given here, so the
command line shows nothing usable. Only regular files under --directory are served (no path
out of it, no huggingface_hub cache), with HTTP Range so that interrupted copies resume. With
--listing, "/" lists the directory's own files as links: a find-links page for pip and uv.

usage: inferops_fleet_serve.py --bind IP --port N --directory DIR --token-sha256 HEX [--listing]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import html
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


def presented_token(header):
    """The token an Authorization header carries: Bearer TOKEN, or Basic with TOKEN as password."""
    scheme, value = (header or "").partition(" ")[::2]
    if scheme == "Bearer":
        return value.strip()
    if scheme == "Basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def listing(root):
    """An HTML page linking the regular, not hidden files directly in root (PEP 503 find-links)."""
    names = sorted(n for n in os.listdir(root) if not n.startswith(".") and os.path.isfile(os.path.join(root, n)))
    links = "".join(f'<a href="{urllib.parse.quote(n)}">{html.escape(n)}</a><br>\n' for n in names)
    return f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n".encode()


def make_handler(root, token_sha256, with_listing=False):
    # BaseHTTPRequestHandler logs one line per request to stderr: the unit's journal.
    class Handler(BaseHTTPRequestHandler):
        server_version = "inferops-fleet"

        def _authorized(self):
            token = presented_token(self.headers.get("Authorization"))
            digest = hashlib.sha256((token or "").encode()).hexdigest()
            return token is not None and hmac.compare_digest(digest, token_sha256)

        def _send_listing(self, head_only):
            body = listing(root)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def _send(self, head_only):
            if not self._authorized():
                # pip and uv send netrc credentials once asked for them.
                self.send_response(401, "a fleet token is required")
                self.send_header("WWW-Authenticate", 'Basic realm="inferops-fleet"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if with_listing and urllib.parse.urlsplit(self.path).path in ("/", "/index.html"):
                self._send_listing(head_only)
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


def serve(bind, port, directory, token_sha256, with_listing=False):
    handler = make_handler(os.path.realpath(directory), token_sha256.lower(), with_listing)
    server = ThreadingHTTPServer((bind, port), handler)
    server.daemon_threads = True
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--token-sha256", required=True)
    parser.add_argument("--listing", action="store_true", help="list the directory's files at /")
    args = parser.parse_args(argv)
    if len(args.token_sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in args.token_sha256):
        parser.error("--token-sha256 must be 64 hex digits")
    if not os.path.isdir(args.directory):
        parser.error(f"{args.directory} is not a directory")
    serve(args.bind, args.port, args.directory, args.token_sha256, args.listing).serve_forever()


if __name__ == "__main__":
    main()
