"""The fleet seed's file server (roles/inferops/files/inferops_fleet_serve.py) against real HTTP
on 127.0.0.1, and the fetcher's peer mode against it."""
import base64
import hashlib
import importlib.util
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]


def _load(name, role="model"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "roles" / role / "files" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve_mod = _load("inferops_fleet_serve", role="inferops")
fetch = _load("inferops_model_fetch")
TOKEN = "t0k3n-of-this-run"


@pytest.fixture()
def seed(tmp_path):
    root = tmp_path / "models"
    model = root / "m"
    (model / ".cache" / "huggingface").mkdir(parents=True)
    (model / "sub").mkdir()
    (model / "config.json").write_text('{"a": 1}')
    (model / "sub" / "w.safetensors").write_bytes(bytes(range(256)) * 40)
    (model / ".cache" / "huggingface" / "x.metadata").write_text("secret-ish")
    (root / "other-model.bin").write_text("not in this copy")
    files = [{"path": p, "size": (model / p).stat().st_size, "sha256": hashlib.sha256((model / p).read_bytes()).hexdigest()}
             for p in ("config.json", "sub/w.safetensors")]
    (model / ".inferops-model.json").write_text(json.dumps({"source": "hf", "repo": "o/m", "revision": "r", "files": files}))
    server = serve_mod.serve("127.0.0.1", 0, str(model), hashlib.sha256(TOKEN.encode()).hexdigest())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", model, files
    server.shutdown()


def get(url, token=None, method="GET", basic=False, **headers):
    if token:
        headers["Authorization"] = (
            "Basic " + base64.b64encode(f"inferops:{token}".encode()).decode() if basic else f"Bearer {token}")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers, method=method), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def test_requests_without_this_runs_token_are_refused(seed):
    base = seed[0]
    assert get(f"{base}/config.json")[0] == 401
    assert get(f"{base}/config.json", "wrong")[0] == 401
    assert get(f"{base}/config.json", TOKEN) == (200, b'{"a": 1}')
    # pip and uv: HTTP Basic from a netrc file, the token as the password.
    assert get(f"{base}/config.json", TOKEN, basic=True) == (200, b'{"a": 1}')
    assert get(f"{base}/config.json", "wrong", basic=True)[0] == 401
    assert get(f"{base}/config.json", Authorization="Basic !!notbase64")[0] == 401


def test_unauthorized_requests_are_asked_for_basic_credentials(seed):
    try:
        urllib.request.urlopen(f"{seed[0]}/config.json", timeout=10)
    except urllib.error.HTTPError as err:
        assert err.code == 401 and err.headers["WWW-Authenticate"].startswith("Basic ")
    else:
        pytest.fail("served without a token")


def test_the_listing_names_the_directorys_own_files_only(tmp_path):
    (tmp_path / "a b-1.0-py3-none-any.whl").write_bytes(b"w")
    (tmp_path / "requirements.lock").write_text("x")
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "sub").mkdir()
    page = serve_mod.listing(str(tmp_path)).decode()
    assert 'href="a%20b-1.0-py3-none-any.whl"' in page and 'href="requirements.lock"' in page
    assert ".hidden" not in page and "sub" not in page
    server = serve_mod.serve("127.0.0.1", 0, str(tmp_path), hashlib.sha256(TOKEN.encode()).hexdigest(), with_listing=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert get(f"{base}/")[0] == 401
        status, body = get(f"{base}/", TOKEN, basic=True)
        assert status == 200 and b"requirements.lock" in body
        assert get(f"{base}/a%20b-1.0-py3-none-any.whl", TOKEN, basic=True) == (200, b"w")
    finally:
        server.shutdown()


def test_only_files_of_the_model_directory_are_served(seed):
    base = seed[0]
    for path in ("/", "/sub", "/../other-model.bin", "/%2e%2e/other-model.bin", "/sub/../../other-model.bin",
                 "/.cache/huggingface/x.metadata", "/etc/passwd", "//etc/passwd"):
        assert get(base + path, TOKEN)[0] == 404, path
    assert get(f"{base}/config.json", TOKEN, method="POST")[0] in (401, 405, 501)


def test_ranges_resume_a_copy(seed):
    base, model = seed[:2]
    status, body = get(f"{base}/sub/w.safetensors", TOKEN, Range="bytes=10000-")
    assert status == 206 and body == (model / "sub" / "w.safetensors").read_bytes()[10000:]
    assert get(f"{base}/sub/w.safetensors", TOKEN, Range="bytes=999999-")[0] == 416


def test_the_fetcher_copies_from_the_seed_with_the_token(seed, tmp_path):
    base, files = seed[0], seed[2]
    spec = {"peer_url": base + "/", "peer_token": TOKEN}
    plan = fetch.plan_peer(spec)
    assert [f["path"] for f in plan["files"]] == [f["path"] for f in files]

    class Quiet:
        state = {"resumed_bytes": 0}

        def update(self, **values):
            self.state.update(values)

    peer = tmp_path / "peer"
    fetch.fetch_http_files(base, plan, str(peer), Quiet(), 2, fetch.peer_headers(spec))
    assert fetch.verify(plan, str(peer), Quiet()) == []
    with pytest.raises(fetch.FetchError):
        fetch.plan_peer({"peer_url": base + "/"})  # no token: the seed refuses
