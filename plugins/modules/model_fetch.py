#!/usr/bin/python
"""Documentation stub: model_fetch is an action plugin (plugins/action/model_fetch.py)."""

DOCUMENTATION = r"""
module: model_fetch
short_description: Fetch a model directory resumably, verify it, and print progress while it runs
description:
  - Starts the role's fetcher (C(inferops_model_fetch.py)) detached on the host and polls its
    status file, printing bytes and files done and the transfer rate in the play.
  - The copy counts as complete only after every file matched its size and hash; then
    C(.inferops-model.json) is written. Re-runs with a complete copy of the same revision change nothing.
version_added: "0.1.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  spec:
    description: The request (source, repo, revision, endpoint, dir, patterns, url/sha256, peer_url, token).
    type: dict
    required: true
  python:
    description: Interpreter of the model tools venv.
    type: str
    required: true
  script:
    description: Path of the fetcher on the host.
    type: str
    required: true
  work_dir:
    description: Where the spec (0600), status, result and log files live.
    type: str
    default: /var/lib/inferops/model-fetch
  poll:
    description: Seconds between progress lines.
    type: float
    default: 5
  timeout:
    description: Give up after this many seconds.
    type: float
    default: 86400
  mode:
    description:
      - C(run) starts the fetcher and waits for its result.
      - C(start) starts it and returns at once, so that other work of the play overlaps the download.
      - C(wait) waits for the result of a fetch that C(start) began earlier in the play on this host
        (same model directory in O(spec) and same O(work_dir)); it fails when none was started.
    type: str
    choices: [run, start, wait]
    default: run
attributes:
  check_mode:
    support: partial
    details: Reports whether a complete copy is recorded; does not contact the source.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Fetch DeepSeek-R1-Distill-Qwen-7B through hf-mirror.com
  inferops.inference.model_fetch:
    python: /opt/inferops/model-tools/bin/python
    script: /opt/inferops/model-tools/inferops_model_fetch.py
    spec:
      source: hf
      repo: deepseek-ai/DeepSeek-R1-Distill-Qwen-7B
      revision: main
      endpoint: https://hf-mirror.com
      dir: /srv/models/DeepSeek-R1-Distill-Qwen-7B
      allow_patterns: []
      ignore_patterns: ["*.pth"]
"""

RETURN = r"""
started: {description: True when mode=start launched the fetcher., returned: mode=start, type: bool}
revision: {description: The commit (or archive sha256) the copy is of., returned: success (not with mode=start), type: str}
files: {description: Number of files in the copy., returned: success (not with mode=start), type: int}
dir:
  description: The directory of the copy (the C(dir) of O(spec)).
  returned: success (not with mode=start)
  type: str
  version_added: "0.9.0"
config_json:
  description: Whether the copy, as its record lists and checks it, holds a C(config.json) at its top.
  returned: success (not with mode=start)
  type: bool
  version_added: "0.9.0"
bytes: {description: Size of the copy., returned: success (not with mode=start), type: int}
rate_bytes_per_s: {description: Average transfer rate of this run., returned: success (not with mode=start), type: float}
resumed_bytes: {description: Bytes already present (resumed) when this run started., returned: success (not with mode=start), type: int}
refetched: {description: Files that failed verification and were fetched again., returned: success (not with mode=start), type: list}
seconds:
  description: The fetcher's own time from its start to its result (not the delay of the polling).
  returned: success (not with mode=start)
  type: float
phase_seconds:
  description: Seconds the fetcher spent in each phase (planning, downloading, verifying, refetching).
  returned: success (not with mode=start)
  type: dict
"""
