"""The input kinds: what each accepts and refuses (plugins/module_utils/inputs.py)."""

import pytest

from ansible_collections.inferops.inference.plugins.module_utils.inputs import check, check_all

GOOD = [
    ("name", "vllm"), ("name", "DeepSeek-R1-Distill-Qwen-1.5B"), ("name", "vllm@gpu0"),
    ("account", "vllm"), ("account", "_svc-1"),
    ("path", "/srv/models"), ("path", "/opt/inferops/vllm/current/bin/python3.11"),
    ("url", "https://pypi.org/simple"), ("url", "http://172.17.0.1:8081/whl/cpu"),
    ("url", "https://user:pa%40ss@mirror.example/simple/"), ("url", "http://[::1]:8080/"),
    ("host", "127.0.0.1"), ("host", "::"), ("host", "gpu-01.example.org"), ("host", "[fd00::1]"),
    ("cidr", "10.210.0.0/24"), ("interface", "eth1"), ("interface", "enp65s0f0"),
    ("token", "sk-lab-0123abcd"), ("token", "abc/DEF+ghi.jk~l-_=="),
    ("word", "bfloat16"), ("word", "vllm.entrypoints.openai.api_server"), ("word", "fp8_e4m3"),
    ("version", "0.32.0"), ("version", "2.13.0+cpu"), ("version", "12.8"), ("version", "1.0.0rc1"),
    ("revision", "main"), ("revision", "refs/pr/1"), ("revision", "0123abcd"),
    ("repo_id", "deepseek-ai/DeepSeek-R1"), ("model_ref", "/srv/models/x"), ("model_ref", "org/name"),
    ("text", "Say hello."), ("text", "--seed"), ("text", "名字 'quoted' \"too\""),
    ("arg", "my-model"), ("pattern", "*.safetensors"), ("pattern", "original/*"),
    ("env_name", "VLLM_CPU_KVCACHE_SPACE"), ("backend", "10.0.0.11:8000"), ("backend", "replica-a:8000"),
    ("port", 8000), ("port", "65535"), ("nginx_time", "5s"), ("nginx_time", "500ms"),
    ("prom_duration", "15s"), ("prom_duration", "1h30m"), ("number", 0.9), ("number", 5), ("number", "0.25"), ("nginx_size", "16m"),
    ("cpu_bind", "auto"), ("cpu_bind", "0-31|32-63"), ("package", "python3-dev"), ("package", "g++"),
    ("package", "libnuma-dev=2.0.16-1"), ("dnf_url", "http://mirror.example/openEuler-24.03-LTS/OS/$basearch/"),
    ("location", "/var/cache/wheels"), ("location", "file:///srv/wheels"), ("hostport", "mirror.example:8443"),
    ("count", 8), ("count", "2"), ("bool", True), ("requirement", "ray[default]==2.60.0"),
    ("requirement", "modelscope"), ("requirement", "vllm @ https://example.org/vllm-0.32.0-cp38-abi3-linux_x86_64.whl"),
    ("requirement", "https://mirror.example/wheels/vllm-0.32.0-cp38-abi3-manylinux_2_28_x86_64.whl"),
    ("requirement", "/srv/wheels/vllm-0.32.0+cpu-cp311-cp311-linux_x86_64.whl"), ("requirement", 'x; python_version < "3.12"'),
    ("apt_source", "deb http://deb.debian.org/debian bookworm main contrib"),
    ("apt_source", "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://m.example/ubuntu noble main"),
]
BAD = [
    ("name", ".."), ("name", "../x"), ("name", ".hidden"), ("name", "-rf"), ("name", "a/b"), ("name", "x" * 65),
    ("name", "vllm\n"), ("account", "Root Admin"), ("account", "a" * 33),
    ("path", "relative/path"), ("path", "/srv/../etc"), ("path", "/srv/models/."), ("path", "/with space"),
    ("path", "/a\"b"), ("path", "/lib/a.so:/tmp/evil.so"), ("url", "http://h/'x"), ("url", "not a url"), ("url", "ftp://x/"),
    ("url", "http://x\"/"), ("url", "http://h:99999/"),
    ("url", "http://$(id)/"), ("url", "https://"), ("host", "-x"), ("host", "a b"), ("host", "a;b"),
    ("cidr", "10.0.0.1"), ("cidr", "300.0.0.0/8"), ("interface", "eth0;x"), ("interface", "x" * 16),
    ("token", 'sk"x'), ("token", "sk x"), ("token", "sk\nx"), ("token", "a=b"), ("word", "a b"),
    ("word", "-flag"), ("version", "1..2"), ("version", "../1"), ("revision", "a..b"), ("revision", "-x"),
    ("repo_id", "a/../b"), ("repo_id", "justname"), ("model_ref", "../x"), ("text", "a\nb"), ("text", "a\x00b"),
    ("text", "x" * 1025), ("arg", "--x"), ("pattern", "../*"), ("pattern", "/etc/*"), ("env_name", "1A"),
    ("env_name", "A-B"), ("backend", "10.0.0.1:70000"), ("backend", "10.0.0.1"), ("backend", "a b:80"),
    ("port", 0), ("port", 70000), ("port", "80;"), ("port", 1.5), ("nginx_time", "5 s"), ("nginx_time", "5s;"),
    ("prom_duration", "15"), ("prom_duration", "5m\n"), ("prom_duration", "1h) or vector(1"), ("number", -1),
    ("number", "0.9 > 0 or up"), ("number", True), ("number", float("nan")), ("number", 1e300),
    ("nginx_size", "16mb"), ("cpu_bind", "all"), ("package", "vim; rm"), ("dnf_url", "http://x/$(id)"),
    ("location", "relative"), ("hostport", "h:0"), ("count", 0), ("count", 1.5), ("count", "1.5"),
    ("count", True), ("bool", "yes"), ("requirement", "--index-url=http://e/"), ("requirement", "ray;id"),
    ("requirement", "a b"), ("requirement", "ray==2.60.0 --pre"), ("apt_source", "deb http://x/ bookworm main\ndeb [trusted=yes] http://e/ x y"),
    ("apt_source", "deb [trusted=yes] http://x/ bookworm main"), ("apt_source", "deb x bookworm"),
]


@pytest.mark.parametrize("kind,value", GOOD, ids=[f"{k}:{v!r}"[:60] for k, v in GOOD])
def test_accepts(kind, value):
    assert check("var", value, {"kind": kind}) is None


@pytest.mark.parametrize("kind,value", BAD, ids=[f"{k}:{v!r}"[:60] for k, v in BAD])
def test_refuses_naming_the_variable(kind, value):
    problem = check("my_var", value, {"kind": kind})
    assert problem and problem.startswith("my_var"), problem


def test_empty_values_need_the_empty_flag():
    assert check("v", "", {"kind": "url"}) == "v must be set: " + check.__globals__["DESCRIPTIONS"]["url"]
    assert check("v", "", {"kind": "url", "empty": True}) is None
    assert check("v", None, {"kind": "path", "empty": True}) is None


def test_lists_name_the_bad_item():
    assert check("v", ["/a", "b"], {"kind": "path", "list": True}).startswith("v[1] ")
    assert check("v", "/a", {"kind": "path", "list": True}).startswith("v must be a list")


def test_mappings_check_keys_and_values():
    assert check("env", {"OK": "x y"}, {"kind": "text", "dict": True}) is None
    assert "env key" in check("env", {"BAD-KEY": "x"}, {"kind": "text", "dict": True})
    assert "env['A']" in check("env", {"A": "x\ny"}, {"kind": "text", "dict": True})


def test_records_refuse_unknown_keys():
    rule = {"kind": "record", "fields": {"name": "name", "baseurl": "dnf_url", "gpgcheck": {"kind": "bool", "empty": True}}}
    assert check("repos", [{"name": "os", "baseurl": "http://m/os/$basearch/"}], rule) is None
    assert "unknown keys ['sslverify']" in check("repos", [{"name": "os", "baseurl": "http://m/", "sslverify": 0}], rule)
    assert "needs 'baseurl'" in check("repos", [{"name": "os"}], rule)


def test_secrets_are_never_shown():
    problem = check("api_key", 'sk-"secret', {"kind": "token", "secret": True})
    assert "secret" in problem and "sk-" not in problem


def test_torch_matrix():
    good = {"2.11": {"x86_64": ["cu126", "cu130"], "aarch64": [], "python": ["3.10", "3.14"]}}
    assert check("m", good, {"kind": "torch_matrix"}) is None
    assert check("m", {"2.11": {"x86_64": ["../x"]}}, {"kind": "torch_matrix"}).startswith("m['2.11'].x86_64")
    assert check("m", {"latest": {}}, {"kind": "torch_matrix"}).startswith("m['latest']")


def test_check_all_reports_every_problem_and_undefined_variables():
    problems = check_all({"a": "name", "b": "port", "c": "url"}, {"a": "..", "b": 70000})
    assert [p.split(" ")[0] for p in problems] == ["a", "b", "c"]
    assert problems[2] == "c is not defined"


def test_unknown_kinds_are_a_programming_error():
    with pytest.raises(ValueError):
        check("v", "x", {"kind": "nope"})


def test_dict_keys_of_another_kind():
    rule = {"kind": "text", "dict": True, "keys": "directive"}
    assert check("overrides", {"PrivateUsers": "yes", "ProtectProc": None}, rule) is None
    assert "overrides key" in check("overrides", {"INFEROPS_TEST": "x"}, rule)
    assert "overrides key" in check("overrides", {"Bad-Key": "x"}, rule)
    assert "overrides" in check("overrides", {"UMask": "0077\nUser=root"}, rule)


def test_systemd_sandbox_items():
    assert check("d", ["char-nvidia-uvm rw", "/dev/nvidia0 rw", "/dev/dri/renderD128"], {"kind": "device_allow", "list": True}) is None
    for bad in ("/dev/x/../../etc/shadow rw", "char-nvidia rwx", "nvidia0", "/dev/a b"):
        assert check("d", [bad], {"kind": "device_allow", "list": True}), bad
    assert check("s", ["@system-service", "~@privileged", "mbind", "ptrace:EPERM"], {"kind": "syscall", "list": True}) is None
    for bad in ("@system-service;x", "a b", "$(id)"):
        assert check("s", [bad], {"kind": "syscall", "list": True}), bad


def test_entry_point_inputs_are_checked_only_where_given():
    rule = {"kind": "path", "entry_point": True}
    assert check_all({"x_dir": rule}, {}) == []
    assert check_all({"x_dir": "path"}, {}) == ["x_dir is not defined"]
    assert "x_dir" in check_all({"x_dir": rule}, {"x_dir": "relative/dir"})[0]
