"""The model_fetch action: its progress line, and its run/start/wait modes against a fake host."""
import json
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
DONE = {"changed": True, "record": {"revision": "abc", "files": [{"size": 3}, {"size": 4}]}}


class FakeHost(model_fetch.ActionModule):
    """The action against a fake host: its files, and the shell commands it was sent."""

    def __init__(self, mode, files=None):  # pylint: disable=super-init-not-called
        self._task = SimpleNamespace(args={"spec": SPEC, "python": "/p", "script": "/s", "mode": mode, "poll": 0},
                                     check_mode=False)
        self.files = dict(files or {})
        self.commands = []
        self.started = False

    def _run(self, command):
        self.commands.append(command)
        if command.startswith("test -e"):
            return (0 if any(path in command for path in self.files) else 1), "", ""
        if command.startswith("cat "):
            path = command.split()[1].strip("'")
            return (0, json.dumps(self.files[path]), "") if path in self.files else (1, "", "")
        return 0, "", ""

    def _start(self, *args):
        self.started = True


@pytest.fixture(autouse=True)
def _no_base_run(monkeypatch):
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})


def test_start_returns_at_once():
    host = FakeHost("start")
    result = host.run(task_vars={"inventory_hostname": "h1"})
    assert host.started and result["started"] and not result["changed"]
    assert not any(c.startswith("cat ") for c in host.commands)  # no polling


def test_wait_takes_a_finished_result_without_sleeping():
    host = FakeHost("wait", {"/var/lib/inferops/model-fetch/m.result.json": DONE})
    host._task.args["poll"] = 3600  # a sleep would hang the test
    result = host.run(task_vars={"inventory_hostname": "h1"})
    assert not host.started
    assert result["changed"] and result["revision"] == "abc" and result["files"] == 2 and result["bytes"] == 7


def test_wait_without_a_started_fetch_fails_by_name():
    with pytest.raises(AnsibleActionFail, match="no fetch of /srv/models/m was started"):
        FakeHost("wait").run(task_vars={})


def test_an_unknown_mode_is_refused():
    with pytest.raises(AnsibleActionFail, match="mode must be one of run, start, wait"):
        FakeHost("later").run(task_vars={})
