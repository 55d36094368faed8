"""Run the model fetcher on the host and print its progress in the play while it runs.

A multi-hundred-GB download takes hours; `async` would show nothing but "still running".
This action starts roles/model/files/inferops_model_fetch.py detached on the host, polls its
status file and prints bytes and files done and the rate, then returns its result.

mode=start only starts it and mode=wait only polls, so that a playbook can download the model
while other roles install packages and wheels (the fetcher depends on none of them).
"""

from __future__ import annotations

import json
import shlex
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


def _human(num):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(num) < 1000 or unit == "TB":
            return f"{num:.1f} {unit}" if unit != "B" else f"{int(num)} B"
        num /= 1000.0
    return f"{num:.1f} TB"


def progress_line(host, status):
    """One human line from a status dict (unit tested)."""
    done, total = status.get("bytes_done", 0), status.get("bytes_total", 0)
    share = f" ({100 * done / total:.0f}%)" if total else ""
    return (f"{host}: {status.get('phase', '?')} {_human(done)}"
            + (f" / {_human(total)}" if total else "") + share
            + f", files {status.get('files_done', 0)}/{status.get('files_total', 0) or '?'}"
            + f", {_human(status.get('rate_bytes_per_s', 0))}/s")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("spec", "python", "script", "work_dir", "poll", "timeout", "mode"))
    MODES = ("run", "start", "wait")

    def _run(self, command):
        result = self._low_level_execute_command(command, sudoable=True)
        return result.get("rc", 1), result.get("stdout", ""), result.get("stderr", "")

    def _read_json(self, path):
        rc, out, _err = self._run(f"cat {shlex.quote(path)} 2>/dev/null")
        if rc != 0 or not out.strip():
            return None
        try:
            return json.loads(out)
        except ValueError:
            return None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        spec = dict(args["spec"])
        work = args.get("work_dir", "/var/lib/inferops/model-fetch")
        mode = args.get("mode", "run")
        if mode not in self.MODES:
            raise AnsibleActionFail(f"mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        host = task_vars.get("inventory_hostname", "host")
        name = spec["dir"].rstrip("/").split("/")[-1]
        spec_path, status_path, result_path, log_path = (
            f"{work}/{name}.{ext}" for ext in ("spec.json", "status.json", "result.json", "log"))

        if self._task.check_mode:
            manifest = self._read_json(spec["dir"].rstrip("/") + "/.inferops-model.json")
            pinned = spec.get("source") in ("url",) and manifest and manifest.get("revision") == spec.get("sha256")
            complete = manifest is not None and (pinned or spec.get("source") != "url")
            result.update(changed=not complete, msg="complete copy recorded" if complete else "would fetch")
            return result

        if mode != "wait":
            self._start(args, spec, work, spec_path, status_path, result_path, log_path)
            if mode == "start":
                result.update(changed=False, started=True, msg=f"fetching in the background (log: {log_path})")
                return result
        elif self._run(f"test -e {shlex.quote(spec_path)} -o -e {shlex.quote(result_path)}")[0] != 0:
            raise AnsibleActionFail(f"no fetch of {spec['dir']} was started (mode=start) on this host")
        return self._wait(result, host, spec_path, status_path, result_path, log_path,
                          poll=float(args.get("poll", 5)), timeout=float(args.get("timeout", 86400)))

    def _start(self, args, spec, work, spec_path, status_path, result_path, log_path):
        # The spec may hold a token: transferred as a file and installed 0600, never put on a
        # command line.
        tmpdir = self._make_tmp_path()
        staged = self._connection._shell.join_path(tmpdir, "spec.json")
        try:
            self._transfer_data(staged, json.dumps(spec))
            self._fixup_perms2([tmpdir, staged])
            rc, out, err = self._run(
                f"mkdir -p -m 0700 {shlex.quote(work)} && install -m 0600 {shlex.quote(staged)} {shlex.quote(spec_path)}"
                f" && rm -f {shlex.quote(status_path)} {shlex.quote(result_path)}")
        finally:
            self._remove_tmp_path(tmpdir)
        if rc != 0:
            raise AnsibleActionFail(f"could not write {spec_path}: {out}{err}")
        start = (f"setsid nohup {shlex.quote(args['python'])} {shlex.quote(args['script'])} "
                 f"--spec {shlex.quote(spec_path)} --status {shlex.quote(status_path)} "
                 f"--result {shlex.quote(result_path)} >{shlex.quote(log_path)} 2>&1 </dev/null & echo started")
        rc, out, err = self._run(start)
        if rc != 0:
            raise AnsibleActionFail(f"could not start the fetcher: {out}{err}")

    def _wait(self, result, host, spec_path, status_path, result_path, log_path, poll, timeout):
        deadline = time.time() + timeout
        last = None
        try:
            # Looked at before the first sleep: a fetch started earlier in the play may be done.
            while True:
                final = self._read_json(result_path)
                status = self._read_json(status_path)
                if status and status.get("phase") not in ("done",) and status != last:
                    display.display(progress_line(host, status))
                    last = status
                if final is not None:
                    break
                if time.time() >= deadline:
                    raise AnsibleActionFail(f"the model fetch did not finish within {int(timeout)} s (see {log_path})")
                time.sleep(poll)
        finally:
            self._run(f"rm -f {shlex.quote(spec_path)}")

        status = self._read_json(status_path) or {}
        if final.get("failed"):
            _rc, log, _err = self._run(f"tail -n 20 {shlex.quote(log_path)}")
            result.update(failed=True, msg=final.get("msg", "model fetch failed"), log_tail=log.splitlines())
            return result
        record = final.get("record") or {}
        result.update(
            changed=bool(final.get("changed")),
            revision=record.get("revision"),
            files=len(record.get("files", [])),
            bytes=sum(f.get("size", 0) for f in record.get("files", [])),
            rate_bytes_per_s=status.get("rate_bytes_per_s"),
            resumed_bytes=status.get("resumed_bytes", 0),
            refetched=status.get("refetched", []),
            seconds=round(time.time() - (status.get("started") or time.time()), 1),
        )
        return result
