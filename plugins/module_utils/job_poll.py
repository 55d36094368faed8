"""Watch a background (async) job's status file on the host (the job_poll module's loop).

job_wait used to run async_status from the controller every 2 s: a job that ended just after a
look was seen up to 2 s late, and each look was a whole module run (an interpreter start on the
host and one on the controller) competing with the job itself for the CPU. Watching the file on
the host, every `interval` seconds within a window, sees the end within `interval`, with one
round trip per window.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.inferops.inference.plugins.module_utils.window import within_window


def read_job(path):
    """(state, data) of a job file: "missing" (no such file: never started here, or its folder
    was emptied), "running" (empty, or "started" without "finished"), or "finished" with the
    job's result. async_wrapper replaces the file whole (a rename), so text that does not parse
    was not written by it: async_status would call that job running forever, here it is over
    and failed."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return "missing", None
    try:
        data = json.loads(text)
    except ValueError:
        if not text.strip():
            return "running", None
        return "finished", {"failed": True, "msg": f"could not parse the job's output: {text[:500]}"}
    if not isinstance(data, dict):
        return "finished", {"failed": True, "msg": f"the job's output is not an object: {text[:500]}"}
    if "started" in data and not data.get("finished"):
        return "running", None
    return "finished", data


def wait_job(path, window, interval, clock=time.monotonic, sleep=time.sleep):
    """Read the job file every interval seconds until it is not "running" or window seconds
    passed. Returns {state, job, polls}: job is the result when finished, else None."""
    (state, data), polls = within_window(lambda: read_job(path), lambda answer: answer[0] != "running",
                                         window, interval, clock, sleep)
    return {"state": state, "job": data, "polls": polls}


def remove_job(path):
    """Remove the job's file (async_status mode=cleanup); True when there was one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
