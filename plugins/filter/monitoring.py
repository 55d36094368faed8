"""Monitoring of vLLM fleets: the metric names a running vLLM exposes (they changed between
releases), and the alert rules and dashboard built from one list of signals, so that every
expression the dashboard or an alert uses is one the installed vLLM can answer."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.inferops.inference.plugins.module_utils.addresses import host_address

# Logical name -> the names vLLM releases used for it, newest first. Histograms are named
# without their _bucket/_sum/_count suffix.
VLLM_METRICS = {
    "running": ("vllm:num_requests_running",),
    "waiting": ("vllm:num_requests_waiting",),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    "prompt_tokens": ("vllm:prompt_tokens_total",),
    "generation_tokens": ("vllm:generation_tokens_total",),
    "request_success": ("vllm:request_success_total",),
    "ttft": ("vllm:time_to_first_token_seconds",),
    "itl": ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
    "e2e_latency": ("vllm:e2e_request_latency_seconds",),
}
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def vllm_metric_names(text):
    """{logical name: the name this vLLM exposes} from the text of its /metrics."""
    exposed = set()
    for line in (text or "").splitlines():
        match = _SAMPLE.match(line)
        if match:
            name = match.group(1)
            exposed.add(name)
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix):
                    exposed.add(name[: -len(suffix)])
    names, missing = {}, []
    for logical, candidates in VLLM_METRICS.items():
        found = [c for c in candidates if c in exposed]
        if found:
            names[logical] = found[0]
        else:
            missing.append(f"{logical} (one of {', '.join(candidates)})")
    if missing:
        raise AnsibleFilterError("this vLLM's /metrics lacks " + "; ".join(missing)
                                 + ": is it a vLLM server, and does it serve requests yet?")
    return names


def _fill(expr, names, where):
    def name(match):
        key = match.group(1)
        if key not in names:
            raise AnsibleFilterError(f"{where}: {{{key}}} is no known metric ({', '.join(sorted(names))})")
        return names[key]
    return _PLACEHOLDER.sub(name, expr)


def monitoring_signals(signals, names, extra=None):
    """The signals with their {placeholders} replaced by metric names (vllm_metric_names and
    extra, e.g. job names): [{"name", "expr", ...}]."""
    table = {**(names or {}), **(extra or {})}
    return [{**signal, "expr": _fill(signal["expr"], table, signal.get("name", "?"))} for signal in signals or []]


def prometheus_rules(alerts, group="inferops"):
    """A Prometheus rule file (as data) from alerts: each has name, signal expression (expr),
    op and threshold (the alert fires while `expr op threshold`), for, severity, summary."""
    rules = []
    for alert in alerts or []:
        op = alert.get("op", ">")
        if op not in (">", "<", ">=", "<=", "==", "!="):
            raise AnsibleFilterError(f"alert {alert.get('name')}: op must be a comparison, got {op!r}")
        rule = {"alert": alert["name"], "expr": f"({alert['expr']}) {op} {alert['threshold']}",
                "labels": {"severity": alert.get("severity", "warning")},
                "annotations": {"summary": alert["summary"]}}
        if alert.get("for"):
            rule["for"] = alert["for"]
        rules.append(rule)
    return {"groups": [{"name": group, "rules": rules}]}


def grafana_dashboard(panels, title, uid, datasource_uid="${DS_PROMETHEUS}"):
    """A Grafana dashboard model: one time series panel per signal, two per row."""
    items = []
    for index, panel in enumerate(panels or []):
        items.append({
            "id": index + 1, "type": "timeseries", "title": panel["name"],
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "datasource": {"type": "prometheus", "uid": datasource_uid},
            "fieldConfig": {"defaults": {"unit": panel.get("unit", "short")}, "overrides": []},
            "targets": [{"refId": "A", "expr": panel["expr"], "legendFormat": panel.get("legend", "{{instance}}"),
                         "datasource": {"type": "prometheus", "uid": datasource_uid}}],
        })
    return {"title": title, "uid": uid, "schemaVersion": 39, "version": 1, "editable": True,
            "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "tags": ["vllm", "inferops"],
            "templating": {"list": [{"name": "DS_PROMETHEUS", "type": "datasource", "query": "prometheus",
                                     "label": "Prometheus"}]},
            "panels": items}


def scrape_targets(hosts, hostvars, port, port_var=None):
    """['address:port', ...] of the given inventory hosts, addressed as the gateway addresses
    its backends; port_var names a host variable that overrides the port (vllm_service_port)."""
    targets = []
    for name in hosts or []:
        hv = hostvars[name]
        host_port = int(hv.get(port_var, port)) if port_var else int(port)
        targets.append(f"{host_address(hv, name)}:{host_port}")
    return targets


class FilterModule:
    def filters(self):
        return {"vllm_metric_names": vllm_metric_names, "monitoring_signals": monitoring_signals,
                "prometheus_rules": prometheus_rules, "grafana_dashboard": grafana_dashboard,
                "scrape_targets": scrape_targets}
