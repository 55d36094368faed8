import grp
import hashlib
import json
import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

from ansible_collections.inferops.inference.plugins.modules import host_state

MODULE = Path(host_state.__file__)


def test_path_state_of_a_file_a_directory_a_link_and_nothing(tmp_path):
    record = tmp_path / "record.json"
    record.write_bytes(b'{"version": "0.32.0"}\n')
    record.chmod(0o640)
    (tmp_path / "current").symlink_to("venvs/0.32.0-cpu")
    me, my_group = pwd.getpwuid(os.getuid())[0], grp.getgrgid(os.getgid())[0]

    assert host_state.path_state(str(record)) == {
        "exists": True, "type": "file", "mode": "0640", "owner": me, "group": my_group,
        "checksum": hashlib.sha1(b'{"version": "0.32.0"}\n').hexdigest()}
    assert host_state.path_state(str(tmp_path))["type"] == "directory"
    assert "checksum" not in host_state.path_state(str(tmp_path))
    # A link is described, not followed (its target does not exist).
    link = host_state.path_state(str(tmp_path / "current"))
    assert (link["type"], link["target"], link["mode"]) == ("link", "venvs/0.32.0-cpu", "0777")
    assert host_state.path_state(str(tmp_path / "missing")) == {"exists": False}


def test_read_text_of_a_record_and_of_nothing(tmp_path):
    (tmp_path / "r").write_text("abc\n")
    assert host_state.read_text(str(tmp_path / "r")) == "abc\n"
    assert host_state.read_text(str(tmp_path / "missing")) is None


SHOW = """LoadState=loaded
ActiveState=active
UnitFileState=enabled
FragmentPath=/etc/systemd/system/vllm.service
Description=vLLM OpenAI-compatible server (tiny)

LoadState=not-found
ActiveState=inactive
Description=ssh2.service
"""


def test_parse_unit_show_reads_one_block_per_unit_in_order():
    units = host_state.parse_unit_show(SHOW, ["vllm.service", "ssh2.service"])
    assert units["vllm.service"]["ActiveState"] == "active"
    assert units["vllm.service"]["Description"].startswith("vLLM OpenAI-compatible server")
    assert units["ssh2.service"] == {"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": "",
                                     "FragmentPath": "", "Description": "ssh2.service"}


def test_parse_unit_show_without_systemd_says_not_found():
    assert host_state.parse_unit_show("", ["a.service"])["a.service"]["LoadState"] == "not-found"


def test_listening_ports_sees_a_real_listener_and_not_a_closed_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port in host_state.listening_ports()
    assert port not in host_state.listening_ports()


def test_listening_ports_reads_ipv4_and_ipv6_tables(tmp_path):
    head = "  sl  local_address rem_address   st\n"
    (tmp_path / "tcp").write_text(head + "   0: 00000000:1F40 00000000:0000 0A 0\n   1: 0100007F:0016 0100007F:A000 01 0\n")
    (tmp_path / "tcp6").write_text(head + "   0: 00000000000000000000000000000000:2382 00000000000000000000000000000000:0000 0A 0\n")
    assert host_state.listening_ports((str(tmp_path / "tcp"), str(tmp_path / "tcp6"))) == {8000, 9090}


def run_module(tmp_path, args):
    """The module as Ansible runs it: its arguments in a file, its answer as JSON on stdout."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True,
                          check=False, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(proc.stdout)


def test_module_answers_every_question_in_one_call(tmp_path):
    me = pwd.getpwuid(os.getuid())[0]
    (tmp_path / "marker").write_text('{"a": 1}')
    result = run_module(tmp_path, {
        "paths": [str(tmp_path), str(tmp_path / "nothing")],
        "read": [str(tmp_path / "marker"), str(tmp_path / "nothing")],
        "users": [me, "inferops-no-such-user"],
        "groups": ["inferops-no-such-group"],
        "ports": [1],
        "commands": {"echo": ["echo", "3.11"], "missing": ["/nonexistent/uv", "--version"]},
    })
    assert result["changed"] is False, result
    assert result["paths"][str(tmp_path)]["type"] == "directory"
    assert result["paths"][str(tmp_path / "nothing")] == {"exists": False}
    assert result["read"] == {str(tmp_path / "marker"): '{"a": 1}', str(tmp_path / "nothing"): None}
    assert result["users"][me]["home"] == pwd.getpwnam(me).pw_dir
    assert result["users"]["inferops-no-such-user"] is None
    assert result["groups"] == {"inferops-no-such-group": None}
    assert result["ports"] == {"1": False}
    assert result["commands"]["echo"]["stdout"] == "3.11\n"
    assert result["commands"]["missing"]["rc"] == 127


def test_module_reads_installed_packages(tmp_path):
    import shutil
    import pytest
    if not shutil.which("dpkg-query"):
        pytest.skip("no dpkg here")
    found = run_module(tmp_path, {"packages": ["dpkg", "inferops-no-such-package"]})["packages"]
    assert found["dpkg"] and found["dpkg"][0].isdigit()
    assert found["inferops-no-such-package"] is None
