"""Watch a background job's status file on the host for a few seconds (job_wait's probe)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: job_poll
short_description: Watch a background task's job file on the host, returning as soon as the job ends
description:
  - Reads the status file of a job started with C(async) and C(poll=0) every O(interval) seconds, for at most
    O(window) seconds, and returns as soon as the job finished (or its file is missing), with the job's result as
    M(ansible.builtin.async_status) would return it.
  - The probe of M(inferops.inference.job_wait), which calls it in a loop between its progress lines.
  - Changes nothing, except that with O(cleanup) the file of a finished job is removed.
version_added: "0.13.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
attributes:
  platform:
    platforms: posix
options:
  jid:
    description: The C(ansible_job_id) the async task registered.
    type: str
    required: true
  async_dir:
    description: The folder of the job files on the host (the C(async_dir) shell option, user expanded).
    type: path
    required: true
  window:
    description: Seconds to keep watching before returning that the job still runs.
    type: float
    default: 5
  interval:
    description: Seconds between two reads of the file.
    type: float
    default: 0.5
  cleanup:
    description: Remove the job's file once the job finished (as M(ansible.builtin.async_status) C(mode=cleanup)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: See whether the install ended within 5 s
  inferops.inference.job_poll:
    jid: "{{ _install.ansible_job_id }}"
    async_dir: /root/.ansible_async
  register: install_job
"""

RETURN = r"""
state:
  description: V(running), V(finished), or V(missing) (no such job file on the host).
  returned: always
  type: str
job:
  description: The job's result (what its task would have returned) once it finished; null otherwise.
  returned: always
  type: dict
polls:
  description: Reads of the job file.
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inferops.inference.plugins.module_utils.job_poll import remove_job, wait_job


def main():
    module = AnsibleModule(
        argument_spec={
            "jid": {"type": "str", "required": True},
            "async_dir": {"type": "path", "required": True},
            "window": {"type": "float", "default": 5},
            "interval": {"type": "float", "default": 0.5},
            "cleanup": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    # A job id is a file name in async_dir: never a path that leaves it.
    if not params["jid"] or "/" in params["jid"] or params["jid"] in (".", ".."):
        module.fail_json(msg=f"not a job id: {params['jid']!r}")
    path = os.path.join(params["async_dir"], params["jid"])
    result = wait_job(path, params["window"], params["interval"])
    changed = False
    if result["state"] == "finished" and params["cleanup"] and not module.check_mode:
        changed = remove_job(path)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
