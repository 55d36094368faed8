#!/usr/bin/python
"""Documentation stub: job_wait is an action plugin (plugins/action/job_wait.py)."""

DOCUMENTATION = r"""
module: job_wait
short_description: Wait for a background task of the play, showing progress, and return its result
description:
  - Watches the job of a task started with C(async) and C(poll=0) on the host with M(inferops.inference.job_poll) (a
    read of its file every O(poll) seconds, one round trip every O(window) seconds), printing a progress line every
    O(progress) seconds instead of retry failures, and returns the job's own result (C(rc), C(stdout), C(stderr),
    C(msg)) as M(ansible.builtin.async_status) reads it; the task fails when the job failed.
  - The job's status file is removed once it finished.
  - In check mode nothing is waited for (nothing was started).
version_added: "0.10.0"
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
  label:
    description: What is waited for, for the progress lines.
    type: str
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 7200
  poll:
    description: Seconds between two reads of the job's file on the host.
    type: float
    default: 0.5
  window:
    description: Seconds the host watches the job per round trip (the controller checks the timeout between two).
    type: float
    default: 5
  progress:
    description: Seconds between two progress lines.
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Install the wheels in the background
  ansible.builtin.command:
    argv: [/opt/uv, pip, install, vllm]
  async: 7200
  poll: 0
  register: _install

- name: Install the OS packages meanwhile
  ansible.builtin.apt:
    name: gcc

- name: Wait for the wheels
  inferops.inference.job_wait:
    jid: "{{ _install.ansible_job_id }}"
    label: the wheels
"""

RETURN = r"""
rc:
  description: The job's exit status (command jobs).
  returned: when the job returns one
  type: int
waited:
  description: Seconds waited.
  returned: success
  type: float
"""
