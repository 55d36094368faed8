#!/usr/bin/python
"""Documentation stub: wait_http is an action plugin (plugins/action/wait_http.py)."""

DOCUMENTATION = r"""
module: wait_http
short_description: Wait for a URL on the host to answer, showing progress and failing fast on a crashed unit
description:
  - Polls O(url) on the managed host (with M(inferops.inference.http_poll)) every O(poll) seconds until it answers
    one of O(status_code), printing a progress line every O(progress) seconds instead of retry failures. The host
    polls in windows of O(delay) seconds, so a server is seen up within O(poll) seconds of its first good answer.
  - With O(unit), each line also names the phase the unit's journal shows (loading weights, compiling, capturing
    CUDA graphs, starting the API server), and the task fails at once, with the unit's last log lines, when the
    unit fails or restarts while being waited for.
  - In check mode nothing is waited for.
version_added: "0.4.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
attributes:
  platform:
    platforms: posix
options:
  url:
    description: The URL, as the host reaches it.
    type: str
    required: true
  status_code:
    description: Status codes that end the wait.
    type: list
    elements: int
    default: [200]
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 900
  delay:
    description: Seconds between two checks of the unit (one round trip to the host each); the URL is polled on the
      host every O(poll) seconds in between.
    type: int
    default: 5
  poll:
    description: Seconds between two requests to O(url), on the host.
    type: float
    default: 0.5
    version_added: "0.12.0"
  progress:
    description: Seconds between two progress lines.
    type: int
    default: 20
  unit:
    description: The systemd unit serving O(url), for its phase and to fail fast when it crashes.
    type: str
  zero_sum:
    description:
      - A regular expression (multi-line) with one group. The wait also lasts until the numbers this group captures
        in the answer's body add up to 0 (for example a server's requests still running or waiting, from its
        Prometheus metrics; a body in which it matches nothing counts as 0). Progress lines show the sum.
    type: str
    version_added: "0.7.0"
"""

EXAMPLES = r"""
- name: Wait for the server to load its model
  inferops.inference.wait_http:
    url: http://127.0.0.1:8000/health
    timeout: 900
    unit: vllm.service

- name: Wait until a replica has no request running or queued
  inferops.inference.wait_http:
    url: http://127.0.0.1:8000/metrics
    zero_sum: '^vllm:num_requests_(?:running|waiting)\{[^}]*\} ([0-9.]+)$'
    timeout: 60
    delay: 1
"""

RETURN = r"""
status:
  description: The status code that ended the wait.
  returned: success
  type: int
  sample: 200
waited:
  description: Seconds waited.
  returned: success
  type: float
  sample: 41.5
phase:
  description: The last phase the unit's log showed, if a unit was named.
  returned: success
  type: str
  sample: starting the API server
"""
