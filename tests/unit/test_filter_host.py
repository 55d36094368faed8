import pytest
from host import in_container  # plugins/filter/host.py


@pytest.mark.parametrize("facts,expected", [
    ({"virtualization_role": "guest", "virtualization_type": "docker"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "podman"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "kvm"}, False),  # a VM can load modules
    ({"virtualization_role": "host", "virtualization_type": "docker"}, False),  # runs containers itself
    ({}, False),
])
def test_in_container(facts, expected):
    assert in_container(facts) is expected
