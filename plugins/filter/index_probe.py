"""Whether a package index carries a build: read from PEP 503 "simple" pages, so that a vLLM
version or torch variant that no index has is refused before the first change instead of
failing in the installer after the OS packages were installed."""

from __future__ import annotations

import re


def _normalise(name):
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def index_probe(index, project, version, variables):
    project = _normalise(project)
    return {"index": str(index), "project": project, "version": str(version), "variables": variables,
            "url": f"{str(index).rstrip('/')}/{project}/"}


def _masked(url):
    """The URL without the user and password an index URL may carry (they go into messages)."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1********@", str(url))


def _file_pattern(project, version):
    name = re.sub(r"-", "[-_.]", re.escape(project).replace("\\-", "-"))
    base, local = version.partition("+")[::2]
    ver = re.escape(base) + (r"(?:\+|%2B)" + re.escape(local) if local else "")
    # 2.13.0 must not match 2.13.01 or 2.13.0rc1; without a local label it matches 2.13.0+cpu (PEP 440).
    follow = r"(?:-|\.tar|\.zip)" if local else r"(?:-|\.tar|\.zip|\+|%2B)"
    return re.compile(rf"(?i)(?:^|[/\"'>\s]){name}-{ver}{follow}")


def index_missing(results, probes=None):
    """Messages for every project that an index answered for but none carries in that version.

    results: the registered loop of ansible.builtin.uri over probes (item = probe, status,
    content), or, with probes, the pages of http_pages in the probes' order. An index that did
    not answer (network, auth) proves nothing and is skipped.
    """
    if probes is not None:
        if len(probes) != len(results or []):
            raise ValueError(f"index_missing: {len(results or [])} pages for {len(probes)} probes")
        results = [{**page, "item": probe} for page, probe in zip(results, probes)]
    by_project = {}
    for result in results or []:
        probe = result.get("item") or {}
        by_project.setdefault(probe.get("project"), []).append(result)
    problems = []
    for project, answers in by_project.items():
        answered = [r for r in answers if r.get("status") in (200, 404)]
        if not answered:
            continue
        probe = answered[0]["item"]
        pattern = _file_pattern(project, probe["version"])
        if not any(r.get("status") == 200 and pattern.search(r.get("content") or "") for r in answered):
            where = ", ".join(_masked(r["item"]["index"]) for r in answered)
            problems.append(f"no {project} {probe['version']} on {where}: check {probe['variables']}")
    return problems


class FilterModule:
    def filters(self):
        return {"index_probe": index_probe, "index_missing": index_missing}
