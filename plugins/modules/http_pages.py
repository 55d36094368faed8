"""Read several web pages from the host at once (the package index pages the checks read)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: http_pages
short_description: Read several URLs from the host at the same time and return each page
description:
  - Sends a GET request to every URL in O(urls) at once (one process each, up to 8 at a time) and returns, in the
    same order, each answer's status code, body and message, without failing on any status, network error or URL
    that cannot be requested (status -1; the caller decides what an answer means).
  - What the checks read before any change (the package index pages of vLLM and torch) took one
    M(ansible.builtin.uri) round trip per page, one after the other; here they take one round trip in all.
  - Proxies come from the environment (C(HTTP_PROXY), C(HTTPS_PROXY)), credentials from the URL or a C(.netrc), as
    for M(ansible.builtin.uri).
  - Changes nothing.
version_added: "0.13.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
attributes:
  platform:
    platforms: posix
options:
  urls:
    description: The URLs, as the host reaches them.
    type: list
    elements: str
    required: true
  headers:
    description: Request headers sent with every request.
    type: dict
    default: {}
  timeout:
    description: Seconds one request may take.
    type: int
    default: 60
  validate_certs:
    description: Check TLS certificates.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the vLLM page of two indexes
  inferops.inference.http_pages:
    urls:
      - https://pypi.org/simple/vllm/
      - https://mirror.example/simple/vllm/
    headers:
      Accept: text/html
  register: pages
"""

RETURN = r"""
pages:
  description: One answer per URL, in the order of O(urls).
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The URL asked, with any password in it masked.
      type: str
    status:
      description: The status code (-1 when no HTTP answer came).
      type: int
    content:
      description: The body (also of an error answer; empty when none came).
      type: str
    msg:
      description: The answer's message (the connection error when no HTTP answer came).
      type: str
"""

import multiprocessing
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import mask_url, open_url

# Set before the workers fork: each reads it from its copy of this process.
_MODULE = None


def read_page(url):
    """One URL, in its own process: Ansible's open_url installs its opener process-wide
    (urllib's install_opener), so two requests in threads could go out with each other's
    credentials. open_url, not fetch_url: fetch_url makes the module's temporary folder (a
    warning on a host without ~/.ansible/tmp, and a folder left behind by a forked worker)."""
    params = _MODULE.params
    answer = {"url": mask_url(url), "status": -1, "content": "", "msg": ""}
    try:
        response = open_url(url, headers=params["headers"], timeout=params["timeout"],
                            validate_certs=params["validate_certs"], http_agent="ansible-httpget")
        raw, status, msg = response.read(), response.status, f"OK ({response.headers.get('Content-Length', 'unknown')} bytes)"
    except urllib.error.HTTPError as exc:  # an answer: its status and body count
        raw, status, msg = exc.read() if exc.fp else b"", exc.code, f"HTTP Error {exc.code}: {exc.reason}"
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # No answer (refused, unreachable, TLS, a URL that cannot be requested): this URL's only.
        answer["msg"] = f"Request failed: {exc}"
        return answer
    answer.update(status=status, msg=msg, content=raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
    return answer


def main():
    global _MODULE  # pylint: disable=global-statement
    _MODULE = AnsibleModule(
        argument_spec={
            "urls": {"type": "list", "elements": "str", "required": True},
            "headers": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 60},
            "validate_certs": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    urls = _MODULE.params["urls"]
    pages = []
    if urls:
        with multiprocessing.get_context("fork").Pool(min(len(urls), 8)) as pool:
            pages = pool.map(read_page, urls)
    _MODULE.exit_json(changed=False, pages=pages)


if __name__ == "__main__":
    main()
