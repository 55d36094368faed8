#!/usr/bin/python
"""Time a start of a vLLM server unit: to /health, to the first completion, phase by phase."""

from __future__ import annotations

DOCUMENTATION = r"""
module: vllm_startup
short_description: Time a start of a vLLM server under systemd, split by phase
description:
  - Stops the unit, optionally empties its compile caches (a cold start), starts it, and measures from
    C(systemctl start) to the first C(200) of C(/health) and to the first completion (one token).
  - Splits the start by the phases the unit's journal shows (starting, loading weights, compiling, capturing CUDA
    graphs, starting the API server, ready), each as seconds after the start.
  - Fails at once, with the unit's last log lines, when the server exits or restarts while starting.
  - The server is restarted; use it out of rotation or on a replica that may pause.
version_added: "0.5.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  unit:
    description: The systemd unit of the server.
    type: str
    required: true
  url:
    description: Base URL of the server as the host reaches it.
    type: str
    default: http://127.0.0.1:8000
  api_key:
    description: Bearer key of the server, for the completion.
    type: str
    default: ""
  model:
    description: Served model name for the completion; empty for the first one the server lists.
    type: str
    default: ""
  cold:
    description: Empty O(cache_dirs) before the start (their contents; the directories stay).
    type: bool
    default: false
  cache_dirs:
    description: The compile caches of the server (vLLM's, torch inductor's, Triton's).
    type: list
    elements: path
    default: []
  timeout:
    description: Seconds the start may take.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Time a cold and a warm start
  inferops.inference.vllm_startup:
    unit: vllm
    api_key: "{{ vllm_service_api_key }}"
    cold: "{{ item == 'cold' }}"
    cache_dirs: [/var/lib/vllm/cache]
  loop: [cold, warm]
  no_log: true
"""

RETURN = r"""
health_s:
  description: Seconds from the start to the first 200 of /health.
  returned: success
  type: float
first_completion_s:
  description: Seconds from the start to the end of the first completion.
  returned: success
  type: float
phases:
  description: Each phase the journal showed and when it began, in seconds after the start.
  returned: success
  type: list
  elements: dict
  sample: [{phase: starting, at_s: 0.9}, {phase: loading weights, at_s: 21.4}, {phase: ready, at_s: 48.0}]
cold:
  description: Whether the caches were emptied first.
  returned: success
  type: bool
"""

import json
import os
import shutil
import time
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.inferops.inference.plugins.module_utils.vllm_log import (
    error_lines, journal_entries, phase_times)


def _request(url, key, body=None, timeout=30):
    """(status, parsed JSON or None); status -1 when nothing answered."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        resp = open_url(url, data=data, headers=headers, method="POST" if data else "GET", timeout=timeout)
        raw = resp.read()
        return resp.getcode(), json.loads(raw) if raw[:1] in (b"{", b"[") else None
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, UrlConnectionError, OSError, ValueError):
        return -1, None


def _empty(directory):
    if not os.path.isdir(directory):
        return
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec={
            "unit": {"type": "str", "required": True},
            "url": {"type": "str", "default": "http://127.0.0.1:8000"},
            "api_key": {"type": "str", "default": "", "no_log": True},
            "model": {"type": "str", "default": ""},
            "cold": {"type": "bool", "default": False},
            "cache_dirs": {"type": "list", "elements": "path", "default": []},
            "timeout": {"type": "int", "default": 1800},
        },
        supports_check_mode=False,
    )
    params = module.params
    unit, url, key = params["unit"], params["url"].rstrip("/"), params["api_key"]
    systemctl = module.get_bin_path("systemctl", required=True)
    journalctl = module.get_bin_path("journalctl", required=True)

    def state():
        _rc, out, _err = module.run_command([systemctl, "show", "-p", "ActiveState", "-p", "NRestarts", "--", unit])
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def log(since):
        _rc, out, _err = module.run_command([journalctl, "-u", unit, "-o", "short-unix", "--no-pager",
                                             "--since", f"@{int(since)}"])
        return journal_entries(out)

    rc, _out, err = module.run_command([systemctl, "stop", "--", unit])
    if rc != 0:
        module.fail_json(msg=f"systemctl stop {unit} failed: {err.strip()}")
    if params["cold"]:
        for directory in params["cache_dirs"]:
            _empty(directory)
    start = time.time()
    rc, _out, err = module.run_command([systemctl, "start", "--", unit])
    if rc != 0:
        module.fail_json(msg=f"systemctl start {unit} failed: {err.strip()}",
                         log=error_lines(m for _w, m in log(start - 1)))
    # An explicit start resets the counter of automatic restarts: read it after.
    restarts = state().get("NRestarts", "0")
    health = None
    while time.time() - start < params["timeout"]:
        if _request(f"{url}/health", key, timeout=5)[0] == 200:
            health = time.time() - start
            break
        now = state()
        if now.get("ActiveState") in ("failed", "inactive") or now.get("NRestarts", "0") != restarts:
            module.fail_json(msg=f"{unit} stopped while starting ({now.get('ActiveState')}, restarts "
                                 f"{now.get('NRestarts')}): " + "\n".join(error_lines(m for _w, m in log(start - 1))))
        time.sleep(0.5)
    if health is None:
        module.fail_json(msg=f"{url}/health did not answer 200 within {params['timeout']} s")
    model = params["model"]
    if not model:
        status, listed = _request(f"{url}/v1/models", key)
        if status != 200 or not (listed or {}).get("data"):
            module.fail_json(msg=f"{url}/v1/models answered {status}: check api_key")
        model = listed["data"][0]["id"]
    status, body = _request(f"{url}/v1/completions", key, {"model": model, "prompt": "Hello", "max_tokens": 1},
                            timeout=max(int(params["timeout"] - (time.time() - start)), 30))
    if status != 200:
        module.fail_json(msg=f"the first completion from {url} answered {status}")
    first = time.time() - start
    # The journal may lag the server by a moment.
    time.sleep(1)
    module.exit_json(changed=True, health_s=round(health, 2), first_completion_s=round(first, 2),
                     phases=phase_times(log(start - 1), start), cold=params["cold"])


if __name__ == "__main__":
    main()
