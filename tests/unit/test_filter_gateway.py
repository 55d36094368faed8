from gateway import gateway_backends  # plugins/filter/gateway.py


def test_backends_from_inventory():
    hostvars = {
        "r1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.11"}}, "vllm_service_port": 8000},
        "r2": {"ansible_host": "10.0.0.12", "vllm_service_port": 9000},
        "r3": {"gateway_backend_address": "192.168.7.3", "ansible_facts": {"default_ipv4": {"address": "10.0.0.13"}}},
        "r4": {},
    }
    assert gateway_backends(["r1", "r2", "r3", "r4"], hostvars) == [
        "10.0.0.11:8000", "10.0.0.12:9000", "192.168.7.3:8000", "r4:8000"]
