import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.inferops.inference.plugins.filter.host import in_container, node_address


@pytest.mark.parametrize("facts,expected", [
    ({"virtualization_role": "guest", "virtualization_type": "docker"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "podman"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "kvm"}, False),  # a VM can load modules
    ({"virtualization_role": "host", "virtualization_type": "docker"}, False),  # runs containers itself
    ({}, False),
])
def test_in_container(facts, expected):
    assert in_container(facts) is expected


# Facts of a multi-homed node: eth0 on the management bridge (default route), eth1 on the
# cluster network, with a secondary address on eth1 as well.
FACTS = {
    "interfaces": ["lo", "eth0", "eth1"],
    "default_ipv4": {"interface": "eth0", "address": "172.17.0.5"},
    "lo": {"ipv4": {"address": "127.0.0.1"}},
    "eth0": {"ipv4": {"address": "172.17.0.5"}},
    "eth1": {"ipv4": {"address": "10.210.0.5"}, "ipv4_secondaries": [{"address": "10.220.0.5"}]},
}


@pytest.mark.parametrize("kwargs,expected", [
    ({}, {"interface": "eth0", "address": "172.17.0.5"}),
    ({"interface": "eth1"}, {"interface": "eth1", "address": "10.210.0.5"}),
    ({"subnet": "10.210.0.0/24"}, {"interface": "eth1", "address": "10.210.0.5"}),
    ({"subnet": "10.220.0.0/16"}, {"interface": "eth1", "address": "10.220.0.5"}),  # secondary
    ({"subnet": "10.210.0.9/24"}, {"interface": "eth1", "address": "10.210.0.5"}),  # host bits ignored
])
def test_node_address(kwargs, expected):
    assert node_address(FACTS, **kwargs) == expected


def test_node_address_dashed_interface_names():
    facts = {"interfaces": ["br-data"], "br_data": {"ipv4": {"address": "10.1.0.2"}}}
    assert node_address(facts, interface="br-data") == {"interface": "br-data", "address": "10.1.0.2"}


@pytest.mark.parametrize("kwargs,facts,message", [
    ({"subnet": "192.168.0.0/16"}, FACTS, "no interface of this host has an address in ray_cluster_subnet 192.168.0.0/16"),
    ({"subnet": "10.0.0.0/8"}, dict(FACTS, eth0={"ipv4": {"address": "10.0.0.5"}}), "several interfaces"),
    ({"subnet": "not-a-cidr"}, FACTS, "ray_cluster_subnet 'not-a-cidr' is not a CIDR"),
    ({"interface": "ib0"}, FACTS, "ray_cluster_interface 'ib0' has no IPv4 address on this host; its interfaces: eth0, eth1, lo"),
    ({"interface": "eth1", "subnet": "10.210.0.0/24"}, FACTS, "not both"),
    ({}, {"interfaces": ["lo"]}, "no default IPv4 route; set ray_cluster_interface or ray_cluster_subnet"),
])
def test_node_address_errors_name_the_variable(kwargs, facts, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        node_address(facts, **kwargs)
