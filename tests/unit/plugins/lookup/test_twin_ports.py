from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.kumo.webstack.plugins.lookup import twin_ports
from ansible_collections.kumo.webstack.plugins.lookup.twin_ports import choose_ports

NAMES = ["bastion_ssh", "lb_http", "lb_https"]


@pytest.fixture
def free(monkeypatch):
    busy = set()
    monkeypatch.setattr(twin_ports, "_can_bind", lambda host, port: port not in busy)
    return busy


def test_chosen_once_then_kept(tmp_path, free):
    own = tmp_path / "shop" / "ports.json"
    first = choose_ports(NAMES, str(own), port_range=(20000, 20009), seed="shop")
    assert sorted(first) == sorted(NAMES) and len(set(first.values())) == 3
    assert all(20000 <= p <= 20009 for p in first.values())
    own.parent.mkdir()
    own.write_text(json.dumps(first))
    free.update(first.values())  # its own containers hold them now
    assert choose_ports(NAMES, str(own), port_range=(20000, 20009), seed="shop") == first


def test_other_stacks_given_and_busy_ports_are_avoided(tmp_path, free):
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "ports.json").write_text(json.dumps({"lb_http": 20000, "lb_https": 20001}))
    free.add(20002)
    chosen = choose_ports(
        NAMES,
        str(tmp_path / "shop" / "ports.json"),
        others=str(tmp_path / "*" / "ports.json"),
        given={"bastion_ssh": 2222, "lb_http": 0},
        port_range=(20000, 20005),
        seed="",  # starts at the first port of the range
    )
    assert chosen == {"bastion_ssh": 2222, "lb_http": 20003, "lb_https": 20004}


def test_full_range_and_bad_input(tmp_path, free):
    free.update(range(20000, 20002))
    with pytest.raises(AnsibleLookupError, match="no free port"):
        choose_ports(NAMES, str(tmp_path / "ports.json"), port_range=(20000, 20001))
    with pytest.raises(AnsibleLookupError, match="range"):
        choose_ports(NAMES, str(tmp_path / "ports.json"), port_range=(30000, 20000))
    (tmp_path / "ports.json").write_text("[1]")
    with pytest.raises(AnsibleLookupError, match="JSON object"):
        choose_ports(NAMES, str(tmp_path / "ports.json"))
