"""Port clashes between the services the roles put on one host (vLLM, Ray, the gateway, the
model fleet server): two settings that name the same port would only fail at start-up, after
the host was changed, or worse, make one service answer for another."""

from __future__ import annotations


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
