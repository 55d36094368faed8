# -*- coding: utf-8 -*-
"""Documentation of the check_inputs action (plugins/action/check_inputs.py runs it)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: check_inputs
short_description: Check role inputs against their kinds before any change
description:
  - Reads each named variable as the play sees it and checks it against a kind (one file name,
    an absolute path, a URL, a bearer token, one line of text, ...).
  - Fails once, listing every bad variable with what it must be. Secret values are never shown.
  - Runs on the controller only; nothing is executed on the host.
version_added: "0.2.0"
author: inferops (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
options:
  inputs:
    description:
      - Mapping of variable name to its rule, either a kind name or a dict with C(kind) and
        the flags C(empty) (allow an empty value), C(list), C(dict) (a mapping of environment
        names to values), C(secret) and C(schemes) (for C(url)).
      - "Kinds: name, account, path, url, host, cidr, interface, token, word, version, revision,
        repo_id, text, arg, pattern, env_name, backend, port, nginx_time, nginx_size, cpu_bind,
        apt_source."
    type: dict
    required: true
attributes:
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Check the service inputs
  inferops.inference.check_inputs:
    inputs:
      vllm_service_name: name
      vllm_service_home: path
      vllm_service_api_key: {kind: token, empty: true, secret: true}
"""

RETURN = r"""
checked:
  description: The variables that were checked.
  returned: always
  type: list
  elements: str
problems:
  description: One sentence per bad variable, naming it and what it must be.
  returned: failed
  type: list
  elements: str
"""
