"""Wait for a background (async) task of this play, printing progress instead of retry failures.

`async_status` with `until`/`retries` prints "FAILED - RETRYING" every few seconds while a long
install runs, which reads like an error. This action polls the job (the same module
async_status runs) and prints a line every `progress` seconds, then returns the job's own
result (rc, stdout, stderr, msg), failed when the job failed, and removes the job's file.
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
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("jid", "label", "timeout", "poll", "progress"))

    def _job(self, task_vars, jid, mode):
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        return self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                    module_args={"jid": jid, "mode": mode, "_async_dir": async_dir})

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        jid, label = str(args["jid"]), args.get("label") or f"job {args['jid']}"
        timeout, poll, progress = (float(args.get(k, d)) for k, d in (("timeout", 7200), ("poll", 2), ("progress", 20)))
        if self._task.check_mode:
            result.update(changed=False, skipped=True, msg="check mode: nothing ran in the background")
            return result
        host = task_vars.get("inventory_hostname", "host")
        start = last = time.monotonic()
        while True:
            status = self._job(task_vars, jid, "status")
            if status.get("finished"):
                break
            if status.get("failed"):
                # No such job (a reboot emptied its folder, or it was never started here).
                raise AnsibleActionFail(f"cannot follow {label} (job {jid}): {status.get('msg', '')}")
            now = time.monotonic()
            if now - start > timeout:
                raise AnsibleActionFail(f"{label} did not finish within {int(timeout)} s (job {jid})")
            if now - last >= progress:
                display.display(progress_line(host, label, now - start))
                last = now
            time.sleep(poll)
        self._job(task_vars, jid, "cleanup")
        result.update(job_result(status))
        result["waited"] = round(time.monotonic() - start, 1)
        return result
