#!/usr/bin/python
"""Poll a URL from the host until it answers as wanted, within a window (wait_http's probe)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: http_poll
short_description: Poll a URL from the host for a few seconds, returning as soon as it answers as wanted
description:
  - Requests O(url) every O(interval) seconds, for at most O(window) seconds, and returns as soon as it answers one
    of O(status_code) (with O(zero_sum), also only once the numbers it captures in the body add up to 0).
  - The probe of M(inferops.inference.wait_http), which calls it in a loop between its checks of the unit and its
    progress lines; usable alone as a bounded readiness check.
  - Changes nothing.
version_added: "0.12.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
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
  window:
    description: Seconds to keep polling before returning the last answer.
    type: float
    default: 5
  interval:
    description: Seconds between two requests.
    type: float
    default: 0.5
  timeout:
    description: Seconds one request may take.
    type: int
    default: 10
  zero_sum:
    description:
      - A regular expression (multi-line) with one group; see M(inferops.inference.wait_http).
    type: str
"""

EXAMPLES = r"""
- name: See whether the server is up within 5 s
  inferops.inference.http_poll:
    url: http://127.0.0.1:8000/health
    window: 5
  register: health
"""

RETURN = r"""
done:
  description: Whether the URL answered as wanted within the window.
  returned: always
  type: bool
status:
  description: The last answer's status code (-1 when no HTTP answer came).
  returned: always
  type: int
  sample: 200
msg:
  description: The last answer's message (the connection error when no HTTP answer came).
  returned: always
  type: str
left:
  description: With O(zero_sum), what the last answer's captured numbers added up to (null when they matched nothing).
  returned: always
  type: float
polls:
  description: Requests sent.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

from ansible_collections.inferops.inference.plugins.module_utils.http_poll import poll


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "status_code": {"type": "list", "elements": "int", "default": [200]},
            "window": {"type": "float", "default": 5},
            "interval": {"type": "float", "default": 0.5},
            "timeout": {"type": "int", "default": 10},
            "zero_sum": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params

    def fetch():
        response, info = fetch_url(module, params["url"], timeout=params["timeout"])
        body = None
        if params["zero_sum"]:
            raw = response.read() if response else info.get("body", b"")
            body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return info.get("status", -1), body, info.get("msg", "")

    result = poll(fetch, params["status_code"], params["window"], params["interval"], params["zero_sum"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
