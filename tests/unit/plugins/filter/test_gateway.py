import pytest

from ansible_collections.inferops.inference.plugins.filter.gateway import gateway_backends, gateway_upstream_servers


def test_backends_from_inventory():
    hostvars = {
        "r1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.11"}}, "vllm_service_port": 8000},
        "r2": {"ansible_host": "10.0.0.12", "vllm_service_port": 9000},
        "r3": {"gateway_backend_address": "192.168.7.3", "ansible_facts": {"default_ipv4": {"address": "10.0.0.13"}}},
        "r4": {},
    }
    assert gateway_backends(["r1", "r2", "r3", "r4"], hostvars) == [
        "10.0.0.11:8000", "10.0.0.12:9000", "192.168.7.3:8000", "r4:8000"]


A, B, C = "10.0.0.11:8000", "10.0.0.12:8000", "10.0.0.13:8000"


def test_upstream_servers_in_rotation_share_the_passive_health_check():
    assert gateway_upstream_servers([A, B, C], [], 2, "30s") == [
        f"{A} max_fails=2 fail_timeout=30s", f"{B} max_fails=2 fail_timeout=30s",
        f"{C} max_fails=2 fail_timeout=30s"]


def test_drained_server_is_down_and_others_keep_the_check():
    assert gateway_upstream_servers([A, B, C], [B]) == [
        f"{A} max_fails=1 fail_timeout=10s", f"{B} down", f"{C} max_fails=1 fail_timeout=10s"]


def test_the_last_server_in_rotation_is_never_ejected():
    # Seen in the gateway scenario: with A drained, one request on a keep-alive connection B
    # closed ejected B, and every request got 502 "no live upstreams" for fail_timeout.
    assert gateway_upstream_servers([A, B], [A]) == [f"{A} down", f"{B} max_fails=0"]
    assert gateway_upstream_servers([A], []) == [f"{A} max_fails=0"]


def test_draining_everything_or_unknown_backends_is_refused():
    with pytest.raises(ValueError, match="leave at least one"):
        gateway_upstream_servers([A, B], [A, B])
    with pytest.raises(ValueError, match="not backends"):
        gateway_upstream_servers([A, B], [C])
