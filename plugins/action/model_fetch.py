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


# A fetcher whose status file is older than this (it rewrites it every second) has stopped.
STALE_AFTER = 60
MAX_RESTARTS = 2


def job_files(work, model_dir):
    """The files of one model directory's fetch on the host (unit tested)."""
    name = model_dir.rstrip("/").split("/")[-1]
    files = {ext.split(".", maxsplit=1)[0]: f"{work}/{name}.{ext}" for ext in ("spec.json", "status.json", "result.json", "log", "pid")}
    return {**files, "work": work}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("spec", "python", "script", "work_dir", "poll", "timeout", "mode"))
    MODES = ("run", "start", "wait")

    def _run(self, command, in_data=None):
        result = self._low_level_execute_command(command, sudoable=True, in_data=in_data)
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
        mode = args.get("mode", "run")
        if mode not in self.MODES:
            raise AnsibleActionFail(f"mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        host = task_vars.get("inventory_hostname", "host")
        files = job_files(args.get("work_dir", "/var/lib/inferops/model-fetch"), spec["dir"])

        if self._task.check_mode:
            manifest = self._read_json(spec["dir"].rstrip("/") + "/.inferops-model.json")
            pinned = spec.get("source") in ("url",) and manifest and manifest.get("revision") == spec.get("sha256")
            complete = manifest is not None and (pinned or spec.get("source") != "url")
            # start changes nothing itself: the wait that follows reports the fetch.
            result.update(changed=not complete and mode != "start",
                          msg="complete copy recorded" if complete else "would fetch")
            return result

        if mode != "wait":
            self._start(args, spec, files)
            if mode == "start":
                result.update(changed=False, started=True, msg=f"fetching in the background (log: {files['log']})")
                return result
        # The pid file is written by start and removed by the wait: a result left by an
        # earlier run is not taken for this one's.
        elif self._run(f"test -e {shlex.quote(files['pid'])}")[0] != 0:
            raise AnsibleActionFail(f"no fetch of {spec['dir']} was started (mode=start) on this host")
        return self._wait(result, host, args, spec, files)

    def _start(self, args, spec, files):
        q = {key: shlex.quote(path) for key, path in files.items()}
        # One round trip (a re-run's start used to take seven). One fetcher per directory: one
        # left running by an interrupted run (it outlives the play) is stopped first, so that its
        # result cannot be taken for this run's. The spec may hold a token: it arrives on stdin
        # and is written 0600, never put on a command line; the fetcher deletes it once read.
        # The status file, created here and rewritten every second by the fetcher, is its heartbeat.
        command = (
            f"p=$(cat {q['pid']} 2>/dev/null) && grep -qsF {q['result']} /proc/$p/cmdline"
            f" && kill $p && for i in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.2; done; "
            f"mkdir -p -m 0700 {q['work']} && rm -f {q['spec']} {q['status']} {q['result']}"
            f" && (umask 077 && cat > {q['spec']}) && touch {q['status']}"
            f" && {{ setsid nohup {shlex.quote(args['python'])} {shlex.quote(args['script'])} "
            f"--spec {q['spec']} --status {q['status']} "
            f"--result {q['result']} >{q['log']} 2>&1 </dev/null & echo $! > {q['pid']}; }}")
        rc, out, err = self._run(command, in_data=json.dumps(spec).encode())
        if rc != 0:
            raise AnsibleActionFail(f"could not write {files['spec']} and start the fetcher: {out}{err}")

    def _status(self, path):
        """(seconds since the fetcher last wrote its status, the status) or (None, None)."""
        q = shlex.quote(path)
        rc, out, _err = self._run(f"test -e {q} && echo $(( $(date +%s) - $(stat -c %Y {q}) )) && cat {q}")
        if rc != 0 or not out.strip():
            return None, None
        age, _sep, text = out.partition("\n")
        try:
            return int(age), (json.loads(text) if text.strip() else None)
        except ValueError:
            return None, None

    def _log_tail(self, files):
        return self._run(f"tail -n 20 {shlex.quote(files['log'])}")[1]

    def _wait(self, result, host, args, spec, files):
        poll, timeout = float(args.get("poll", 5)), float(args.get("timeout", 86400))
        stale_after = max(STALE_AFTER, 3 * poll)
        deadline = time.time() + timeout
        last, restarts = None, 0
        try:
            # Looked at before the first sleep: a fetch started earlier in the play may be done.
            while True:
                final = self._read_json(files["result"])
                if final is not None:
                    break
                age, status = self._status(files["status"])
                if status and status.get("phase") not in ("done",) and status != last:
                    display.display(progress_line(host, status))
                    last = status
                if age is None or age > stale_after:
                    # Stopped without a result (a reboot by the driver role, a kill): it resumes.
                    final = self._read_json(files["result"])
                    if final is not None:
                        break
                    if restarts == MAX_RESTARTS:
                        raise AnsibleActionFail(f"the model fetcher stopped without a result {restarts + 1} times "
                                                f"(see {files['log']}): {self._log_tail(files)[-2000:]}")
                    display.display(f"{host}: the model fetcher is not running (host restarted?): starting it again")
                    self._start(args, spec, files)
                    restarts += 1
                if time.time() >= deadline:
                    raise AnsibleActionFail(f"the model fetch did not finish within {int(timeout)} s (see {files['log']})")
                time.sleep(poll)
        finally:
            self._run(f"rm -f {shlex.quote(files['spec'])} {shlex.quote(files['pid'])}")

        status = self._status(files["status"])[1] or {}
        if final.get("failed"):
            result.update(failed=True, msg=final.get("msg", "model fetch failed"), log_tail=self._log_tail(files).splitlines())
            return result
        record = final.get("record") or {}
        result.update(
            changed=bool(final.get("changed")),
            revision=record.get("revision"),
            files=len(record.get("files", [])),
            # The role's completeness check needs no stat of its own after a checked copy.
            config_json=any(f.get("path") == "config.json" for f in record.get("files", [])),
            dir=spec["dir"],
            bytes=sum(f.get("size", 0) for f in record.get("files", [])),
            rate_bytes_per_s=status.get("rate_bytes_per_s"),
            resumed_bytes=status.get("resumed_bytes", 0),
            refetched=status.get("refetched", []),
            # The fetcher's own time (its status is written by it): not the polling's delay.
            seconds=round((status.get("finished") or time.time()) - (status.get("started") or time.time()), 1),
            phase_seconds=status.get("phase_seconds", {}),
        )
        return result
