"""Wait for a background (async) task of this play, printing progress instead of retry failures.

`async_status` with `until`/`retries` prints "FAILED - RETRYING" every few seconds while a long
install runs, which reads like an error. This action watches the job's file on the host (the
job_poll module: a read every `poll` seconds, one round trip per `window` seconds, so the end
is seen within `poll` seconds, or a round trip when it falls between two windows) and prints
a line every `progress` seconds, then returns the job's own result (rc, stdout, stderr, msg),
failed when the job failed, and removes the job's file.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


def progress_line(host, label, waited):
    """One human line (unit tested)."""
    return f"{host}: waiting for {label}: {int(waited)} s"


def job_result(status):
    """The job's own result from an async_status answer (unit tested): what the task it ran would
    have returned, without the polling's keys."""
    drop = {"started", "finished", "ansible_job_id", "results_file", "erased", "_ansible_suppress_tmpdir_delete"}
    result = {key: value for key, value in status.items() if key not in drop}
    if status.get("rc") not in (None, 0):
        result["failed"] = True
    # As a task's own result has them (async_status's came with them from the module run).
    for stream in ("stdout", "stderr"):
        if isinstance(result.get(stream), str) and f"{stream}_lines" not in result:
            result[f"{stream}_lines"] = result[stream].splitlines()
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("jid", "label", "timeout", "poll", "window", "progress"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        jid, label = str(args["jid"]), args.get("label") or f"job {args['jid']}"
        timeout, poll, window, progress = (float(args.get(k, d)) for k, d in
                                           (("timeout", 7200), ("poll", 0.5), ("window", 5), ("progress", 20)))
        # A zero poll or window would send one module run per look: what this action avoids.
        poll, window = max(poll, 0.1), max(window, 1.0)
        if self._task.check_mode:
            result.update(changed=False, skipped=True, msg="check mode: nothing ran in the background")
            return result
        host = task_vars.get("inventory_hostname", "host")
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        start = last = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - start)
            answer = self._execute_module(
                module_name="inferops.inference.job_poll", task_vars=task_vars,
                module_args={"jid": jid, "async_dir": async_dir, "window": max(min(window, left), 0),
                             "interval": poll, "cleanup": True})
            if answer.get("failed"):
                raise AnsibleActionFail(f"cannot follow {label} (job {jid}): {answer.get('msg', '')}")
            if answer.get("state") == "missing":
                # A reboot emptied its folder, or it was never started here.
                raise AnsibleActionFail(f"cannot follow {label} (job {jid}): no job file in {async_dir}")
            if answer.get("state") == "finished":
                break
            now = time.monotonic()
            if now - start > timeout:
                raise AnsibleActionFail(f"{label} did not finish within {int(timeout)} s (job {jid})")
            if now - last >= progress:
                display.display(progress_line(host, label, now - start))
                last = now
        result.update(job_result(answer.get("job") or {}))
        result["waited"] = round(time.monotonic() - start, 1)
        return result
