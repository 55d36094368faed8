"""The model_fetch action: its progress line, and its run/start/wait modes against a fake host."""
import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.inferops.inference.plugins.action import model_fetch
from ansible_collections.inferops.inference.plugins.action.model_fetch import progress_line


def test_progress_line():
    line = progress_line("h1", {"phase": "downloading", "bytes_done": 157286430, "bytes_total": 314572860,
                                "files_done": 1, "files_total": 3, "rate_bytes_per_s": 12142888.5})
    assert line == "h1: downloading 157.3 MB / 314.6 MB (50%), files 1/3, 12.1 MB/s"


SPEC = {"source": "hf", "repo": "o/m", "revision": "main", "dir": "/srv/models/m"}
WORK = "/var/lib/inferops/model-fetch"
DONE = {"changed": True, "record": {"revision": "abc", "files": [{"size": 3}, {"size": 4}]}}


def test_job_files():
    files = model_fetch.job_files(WORK, "/srv/models/m/")
    assert files == {"spec": f"{WORK}/m.spec.json", "status": f"{WORK}/m.status.json", "result": f"{WORK}/m.result.json",
                     "log": f"{WORK}/m.log", "pid": f"{WORK}/m.pid", "work": WORK}


class FakeHost(model_fetch.ActionModule):
    """The action against a fake host: its files (path -> JSON, or None for an empty file),
    the age of the status file, and the commands it was sent."""

    def __init__(self, mode, files=None, status_age=1, finish_on_start=None):  # pylint: disable=super-init-not-called
        self._task = SimpleNamespace(args={"spec": SPEC, "python": "/p", "script": "/s", "mode": mode, "poll": 0},
                                     check_mode=False)
        self.files = dict(files or {})
        self.status_age = status_age
        self.finish_on_start = finish_on_start
        self.commands = []
        self.starts = 0

    def _run(self, command):
        self.commands.append(command)
        if command.startswith("test -e"):
            path = command.split()[2].strip("'")
            if path not in self.files:
                return 1, "", ""
            if "stat -c" in command:
                body = json.dumps(self.files[path]) if self.files[path] is not None else ""
                return 0, f"{self.status_age}\n{body}", ""
            return 0, "", ""
        if command.startswith("cat "):
            path = command.split()[1].strip("'")
            found = path in self.files and self.files[path] is not None
            return (0, json.dumps(self.files[path]), "") if found else (1, "", "")
        return 0, "", ""

    def _start(self, args, spec, files):
        self.starts += 1
        self.files[files["pid"]] = None
        self.files[files["status"]] = None
        self.status_age = 0
        if self.finish_on_start is not None:
            self.files[files["result"]] = self.finish_on_start


@pytest.fixture(autouse=True)
def _no_base_run(monkeypatch):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(model_fetch.time, "sleep", lambda seconds: None)


def test_start_returns_at_once():
    host = FakeHost("start")
    result = host.run(task_vars={"inventory_hostname": "h1"})
    assert host.starts == 1 and result["started"] and not result["changed"]
    assert not any(c.startswith("cat ") for c in host.commands)  # no polling


def test_wait_takes_a_finished_result():
    host = FakeHost("wait", {f"{WORK}/m.pid": None, f"{WORK}/m.result.json": DONE})
    result = host.run(task_vars={"inventory_hostname": "h1"})
    assert host.starts == 0
    assert result["changed"] and result["revision"] == "abc" and result["files"] == 2 and result["bytes"] == 7
    assert any(c.startswith("rm -f") and f"{WORK}/m.pid" in c for c in host.commands)  # the job is over


def test_wait_without_a_started_fetch_fails_by_name():
    """An earlier run's result is not this run's: without the pid file of a start, wait refuses."""
    with pytest.raises(AnsibleActionFail, match="no fetch of /srv/models/m was started"):
        FakeHost("wait", {f"{WORK}/m.result.json": DONE}).run(task_vars={})


def test_a_fetcher_that_stopped_is_started_again():
    """A reboot between start and wait (the driver role's) kills the fetcher: its heartbeat
    goes stale, and the wait starts it again (it resumes) instead of waiting for the timeout."""
    host = FakeHost("wait", {f"{WORK}/m.pid": None, f"{WORK}/m.status.json": {"phase": "downloading"}},
                    status_age=model_fetch.STALE_AFTER + 1, finish_on_start=DONE)
    result = host.run(task_vars={"inventory_hostname": "h1"})
    assert host.starts == 1 and result["changed"]


def test_a_fetcher_that_keeps_stopping_fails_with_its_log():
    host = FakeHost("wait", {f"{WORK}/m.pid": None}, status_age=None)
    host._start = lambda args, spec, files: setattr(host, "starts", host.starts + 1)  # never comes back
    with pytest.raises(AnsibleActionFail, match="stopped without a result 3 times"):
        host.run(task_vars={"inventory_hostname": "h1"})
    assert host.starts == model_fetch.MAX_RESTARTS


def test_an_unknown_mode_is_refused():
    with pytest.raises(AnsibleActionFail, match="mode must be one of run, start, wait"):
        FakeHost("later").run(task_vars={})


def test_start_in_check_mode_leaves_the_change_to_the_wait():
    host = FakeHost("start")
    host._task.check_mode = True
    assert not host.run(task_vars={})["changed"]
    host = FakeHost("wait")
    host._task.check_mode = True
    assert host.run(task_vars={})["changed"]


FETCHER = """import json, os, sys
args = sys.argv
spec, result = args[args.index("--spec") + 1], args[args.index("--result") + 1]
found = {"mode": oct(os.stat(spec).st_mode & 0o777), "spec": json.load(open(spec)), "stdin": sys.stdin.read()}
with open(result + ".tmp", "w") as out:
    json.dump(found, out)
os.rename(result + ".tmp", result)
"""


def test_start_is_one_command_that_writes_the_spec_from_stdin_and_starts_the_fetcher(tmp_path):
    """The start's one shell command, run for real by sh: the spec (which may hold a token)
    arrives on stdin, lands 0600, never on the command line; the fetcher runs detached."""
    class Local(model_fetch.ActionModule):
        def __init__(self):  # pylint: disable=super-init-not-called
            self.commands = []

        def _run(self, command, in_data=None):
            self.commands.append(command)
            proc = subprocess.run(["sh", "-c", command], input=in_data, capture_output=True, check=False)
            return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    script = tmp_path / "fetch.py"
    script.write_text(FETCHER)
    spec = {**SPEC, "dir": str(tmp_path / "m"), "token": "hf_secret_token"}
    files = model_fetch.job_files(str(tmp_path / "work"), spec["dir"])
    host = Local()
    host._start({"python": sys.executable, "script": str(script)}, spec, files)
    deadline = time.time() + 30
    while not os.path.exists(files["result"]) and time.time() < deadline:
        time.sleep(0.1)
    found = json.loads(open(files["result"], encoding="utf-8").read())
    assert found == {"mode": "0o600", "spec": spec, "stdin": ""}
    assert len(host.commands) == 1 and "hf_secret_token" not in host.commands[0]
    assert os.path.exists(files["pid"]) and os.path.exists(files["status"])
