"""Wait until a URL on the host answers, printing progress instead of retry failures.

`until`/`retries` prints "FAILED - RETRYING" every few seconds while a model loads, which reads
like an error. This action polls the URL on the host (the http_poll module: a request every
`poll` seconds, one round trip per `delay` seconds, so a server is seen up within `poll` seconds
of answering) and prints a line every `progress` seconds: the time waited and, when a systemd
unit is named, the phase its log shows (loading weights, compiling, ...). A unit that crashed or
restarts while being waited for fails the task at once with its last log lines, instead of at
the timeout.
"""

from __future__ import annotations

import shlex
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.inferops.inference.plugins.module_utils.vllm_log import error_lines, startup_phase

display = Display()


def progress_line(host, url, waited, phase):
    """One human line (unit tested)."""
    return f"{host}: waiting for {url}: {int(waited)} s" + (f", {phase}" if phase else "")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("url", "status_code", "timeout", "delay", "poll", "progress", "unit", "zero_sum"))

    def _run(self, command):
        result = self._low_level_execute_command(command, sudoable=True)
        return result.get("rc", 1), result.get("stdout", "")

    def _unit_state(self, unit):
        _rc, out = self._run(f"systemctl show -p ActiveState -p NRestarts -- {shlex.quote(unit)}")
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def _log(self, unit, since):
        _rc, out = self._run(f"journalctl -u {shlex.quote(unit)} -o cat --no-pager --since @{int(since)}")
        return out.splitlines()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        url = args["url"]
        codes = args.get("status_code", [200])
        codes = [int(c) for c in (codes if isinstance(codes, list) else [codes])]
        timeout = float(args.get("timeout", 900))
        delay = float(args.get("delay", 5))
        interval = float(args.get("poll", 0.5))
        every = float(args.get("progress", 20))
        unit = args.get("unit") or ""
        zero_sum = args.get("zero_sum") or ""
        host = task_vars.get("inventory_hostname", "host")
        if self._task.check_mode:
            result.update(changed=False, skipped=True, msg="check mode: not waited for")
            return result

        start = time.time()
        restarts = self._unit_state(unit).get("NRestarts") if unit else None
        phase, shown, status = None, start, None
        while True:
            # The host polls for `delay` seconds (returning at the first good answer): the unit's
            # checks and the progress lines below come once per window.
            answer = self._execute_module(
                module_name="inferops.inference.http_poll",
                module_args={"url": url, "status_code": codes, "timeout": 10,
                             "window": max(min(delay, timeout - (time.time() - start)), 0),
                             "interval": min(interval, delay), "zero_sum": zero_sum or None},
                task_vars=task_vars)
            if answer.get("failed") and "status" not in answer:
                raise AnsibleActionFail(f"cannot poll {url}: {answer.get('msg')}")
            status, left = answer.get("status"), answer.get("left")
            waited = time.time() - start
            if answer.get("done"):
                result.update(changed=False, status=status, waited=round(waited, 1), phase=phase)
                return result
            if left:
                phase = f"{left:g} still running or waiting"
            if unit:
                state = self._unit_state(unit)
                lines = self._log(unit, start - 1)
                phase = startup_phase(lines, phase)
                if state.get("ActiveState") == "failed" or state.get("NRestarts") != restarts:
                    raise AnsibleActionFail(
                        f"{unit} stopped while waiting for {url} after {int(waited)} s "
                        f"({state.get('ActiveState')}, restarts {state.get('NRestarts')}):\n"
                        + "\n".join(error_lines(lines)))
            if waited >= timeout:
                raise AnsibleActionFail(
                    f"{url} did not answer {codes}{' with ' + zero_sum + ' adding up to 0' if zero_sum else ''} within "
                    f"{int(timeout)} s (last: {status if status and status > 0 else answer.get('msg')}{', ' + phase if phase and not unit else ''})"
                    + (f"; {unit} was {phase or 'starting'}" if unit else ""))
            if time.time() - shown >= every:
                display.display(progress_line(host, url, waited, phase))
                shown = time.time()
