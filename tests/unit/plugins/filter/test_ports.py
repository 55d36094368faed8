from ansible_collections.inferops.inference.plugins.filter.ports import port_clashes


def test_no_clash():
    assert port_clashes({"a": 8000, "b": 8001, "r": [10002, 10999]}) == []


def test_same_port_names_both_settings():
    assert port_clashes({"vllm_service_port": 6379, "ray_cluster_gcs_port": "6379"}) == [
        "ray_cluster_gcs_port and vllm_service_port both use port 6379: give each its own port"]


def test_port_inside_a_range():
    assert port_clashes({"workers": [10002, 10999], "gateway_listen_port": 10500})[0].startswith("gateway_listen_port and workers")


def test_list_of_claims_is_merged_and_empty_values_ignored():
    assert port_clashes([{"a": 8000}, {}, {"b": 8000, "c": None}]) == ["a and b both use port 8000: give each its own port"]
