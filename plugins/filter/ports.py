"""Port clashes between the services the roles put on one host (vLLM, Ray, the gateway, the
model fleet server): two settings that name the same port would only fail at start-up, after
the host was changed, or worse, make one service answer for another."""

from __future__ import annotations

DOCUMENTATION = r"""
name: port_clashes
short_description: Find settings that claim the same TCP port on one host
description:
  - Takes a mapping of setting name to a port or to a [first, last] range (or a list of such
    mappings, merged) and returns one sentence for each pair of settings whose ports overlap.
    An empty list means no clash.
version_added: "0.2.0"
author: inferops (@inferops)
positional: _input
options:
  _input:
    description: Setting name to port (int) or inclusive range ([first, last]), or a list of such mappings.
    type: raw
    required: true
"""

EXAMPLES = r"""
clashes: "{{ {'vllm_service_port': 8000, 'ray_cluster_gcs_port': 8000} | inferops.inference.port_clashes }}"
"""

RETURN = r"""
_value:
  description: One sentence per clash, naming both settings.
  type: list
  elements: str
"""


def _span(value):
    if isinstance(value, (list, tuple)):
        first, last = (int(v) for v in value)
        return (first, last) if first <= last else (last, first)
    return int(value), int(value)


def port_clashes(ports):
    if isinstance(ports, (list, tuple)):
        merged = {}
        for claim in ports:
            merged.update(claim or {})
        ports = merged
    spans = sorted((name, _span(value)) for name, value in (ports or {}).items() if value not in (None, ""))
    clashes = []
    for index, (name, (first, last)) in enumerate(spans):
        for other, (ofirst, olast) in spans[index + 1:]:
            if first <= olast and ofirst <= last:
                shared = max(first, ofirst)
                clashes.append(f"{name} and {other} both use port {shared}: give each its own port")
    return clashes


class FilterModule:
    def filters(self):
        return {"port_clashes": port_clashes}
