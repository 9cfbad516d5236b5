from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.twin import FilterModule, twin_packet_filters

INFO = {
    "shop-bastion": {"pid": 101, "running": True, "private_ip": "172.30.0.2"},
    "shop-lb": {"pid": 102, "running": True, "private_ip": "172.30.0.3"},
    "shop-web-1": {"pid": 103, "running": True, "private_ip": "172.30.0.4"},
    "shop-web-2": {"pid": 104, "running": True, "private_ip": "172.30.0.5"},
    "shop-db": {"pid": 105, "running": True, "private_ip": "172.30.0.6"},
}
WEB = ["shop-web-1", "shop-web-2"]


def rails(web=WEB, lb_ports=(80,)):
    """The groups twin/tasks/filters.yml passes for the rails stack."""
    return [
        {
            "hosts": list(web),
            "allow": [
                {"from": ["shop-bastion"], "ports": [22], "comment": "ssh from the bastion"},
                {"from": ["shop-lb"], "ports": list(lb_ports), "comment": "http from the lb"},
            ],
        },
        {"hosts": ["shop-db"], "allow": [{"from": list(web), "ports": [3306], "comment": "mysql from {source}"}]},
    ]


DB_TEXT = (
    "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n"
    "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
    "-A INPUT -s 172.30.0.4/32 -p tcp -m tcp --dport 3306 -m comment"
    ' --comment "twin: mysql from shop-web-1" -j ACCEPT\n'
    "-A INPUT -s 172.30.0.5/32 -p tcp -m tcp --dport 3306 -m comment"
    ' --comment "twin: mysql from shop-web-2" -j ACCEPT\n'
    '-A INPUT -m comment --comment "kumo.webstack twin 3e327c917630" -j DROP\nCOMMIT\n'
)


def summary(filters):
    return [(f["name"], f["pid"], f["digest"]) for f in filters]


# Names, process ids and digests as the Jinja program in twin/tasks/filters.yml gave them for
# the same containers before this filter replaced it (ansible-core 2.19): the rule sets in place
# on a running twin stay as they are.
def test_rails_stack_as_the_former_jinja():
    filters = twin_packet_filters(rails(), INFO)
    assert summary(filters) == [
        ("shop-web-1", 103, "4639914f2bc5"),
        ("shop-web-2", 104, "4639914f2bc5"),
        ("shop-db", 105, "3e327c917630"),
    ]
    assert filters[0]["rules"] == [["ssh from the bastion", "172.30.0.2", 22], ["http from the lb", "172.30.0.3", 80]]
    assert filters[2]["rules"] == [
        ["mysql from shop-web-1", "172.30.0.4", 3306],
        ["mysql from shop-web-2", "172.30.0.5", 3306],
    ]
    assert filters[2]["text"] == DB_TEXT


def test_lb_ports_sorted_once_each_as_the_former_jinja():
    # target groups on 8080 (servers 3000, 80) and 80 (no servers): ports 80, 80, 8080, 3000
    filters = twin_packet_filters(rails(lb_ports=[3000, 80, 8080, 80]), INFO)
    assert summary(filters)[0] == ("shop-web-1", 103, "f93ebbd5a950")
    assert [rule[2] for rule in filters[0]["rules"]] == [22, 80, 3000, 8080]


def test_no_target_groups_and_no_web_servers_as_the_former_jinja():
    assert summary(twin_packet_filters(rails(lb_ports=[]), INFO))[0] == ("shop-web-1", 103, "ba39d029bbce")
    assert summary(twin_packet_filters(rails(web=[], lb_ports=[]), INFO)) == [("shop-db", 105, "f540b5d175c3")]
    assert summary(twin_packet_filters(rails(web=["shop-web-2"]), INFO)) == [
        ("shop-web-2", 104, "4639914f2bc5"),
        ("shop-db", 105, "0690af0ab3af"),
    ]


def test_digest_is_of_the_rules_above_the_final_drop():
    text = twin_packet_filters(rails(web=[], lb_ports=[]), INFO)[0]["text"]
    lines = text.splitlines()
    assert lines[-2:] == ['-A INPUT -m comment --comment "kumo.webstack twin f540b5d175c3" -j DROP', "COMMIT"]
    assert text.endswith("COMMIT\n")


def test_a_container_in_two_groups_gets_both_sets_of_rules_in_order():
    groups = [
        {"hosts": ["shop-web-1"], "allow": [{"from": ["shop-lb"], "ports": ["8080"], "comment": "app"}]},
        {"hosts": ["shop-db", "shop-web-1"], "allow": [{"from": ["shop-bastion"], "ports": [22], "comment": "ssh"}]},
        {"hosts": ["shop-web-2"]},
    ]
    filters = twin_packet_filters(groups, INFO)
    assert [f["name"] for f in filters] == ["shop-web-1", "shop-db", "shop-web-2"]
    assert filters[0]["rules"] == [["app", "172.30.0.3", 8080], ["ssh", "172.30.0.2", 22]]
    assert filters[1]["rules"] == [["ssh", "172.30.0.2", 22]]
    assert filters[2]["rules"] == []


def test_empty_input():
    assert twin_packet_filters([], INFO) == []


def broken(path, value):
    """The rails groups with one value replaced (or removed, for value ...)."""
    groups = rails()
    node = groups
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return groups


@pytest.mark.parametrize(
    ("groups", "info", "message"),
    [
        ({"hosts": []}, INFO, "the input must be a list; got dict"),
        (["web"], INFO, "group 1 must be a dict with hosts and allow; got str"),
        (broken([0, "extra"], 1), INFO, "group 1 has unknown keys extra (expected hosts and allow)"),
        (broken([1, "hosts"], "shop-db"), INFO, "group 2: hosts must be a list; got str"),
        (broken([1, "hosts"], [""]), INFO, "group 2: hosts must list container names; got ''"),
        (broken([0, "allow"], {}), INFO, "group 1: allow must be a list; got dict"),
        (broken([0, "allow", 1], "lb"), INFO, "group 1: allow 2 must be a dict with from, ports and comment"),
        (broken([0, "allow", 1, "port"], 80), INFO, "group 1: allow 2 has unknown keys port"),
        (broken([0, "allow", 1, "ports"], 80), INFO, "group 1: allow 2: ports must be a list; got int"),
        (broken([0, "allow", 1, "ports"], [0]), INFO, "group 1: allow 2: ports must list TCP ports (1-65535); got 0"),
        (broken([0, "allow", 1, "ports"], [65536]), INFO, "ports must list TCP ports (1-65535); got 65536"),
        (broken([0, "allow", 1, "ports"], ["http"]), INFO, "ports must list TCP ports (1-65535); got 'http'"),
        (broken([0, "allow", 1, "ports"], [True]), INFO, "ports must list TCP ports (1-65535); got True"),
        (broken([0, "allow", 1, "ports"], [80.0]), INFO, "ports must list TCP ports (1-65535); got 80.0"),
        (broken([0, "allow", 1, "from"], [None]), INFO, "group 1: allow 2: from must list container names; got None"),
        (broken([0, "allow", 1, "comment"], 'say "hi"'), INFO, "comment must be one line of text without double"),
        (broken([0, "allow", 1, "comment"], "a\nb"), INFO, "comment must be one line of text without double"),
        (broken([0, "allow", 1, "comment"], 7), INFO, "comment must be one line of text without double"),
        (rails(), [], "the container facts must be a dict of name -> {pid, private_ip}; got list"),
        (broken([0, "allow", 1, "from"], ["shop-lb2"]), INFO, "group 1: allow 2: from names container 'shop-lb2'"),
        (broken([1, "hosts"], ["shop-cache"]), INFO, "group 2: hosts names container 'shop-cache', which the"),
    ],
)
def test_bad_input_says_what_is_wrong(groups, info, message):
    with pytest.raises(AnsibleFilterError, match="^twin_packet_filters: ") as err:
        twin_packet_filters(groups, info)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("name", "facts", "message"),
    [
        ("shop-lb", {"pid": 102, "private_ip": ""}, "container 'shop-lb' has no private IPv4 address (private_ip '')"),
        ("shop-lb", {"pid": 102}, "container 'shop-lb' has no private IPv4 address (private_ip None)"),
        ("shop-lb", {"pid": 102, "private_ip": "fd00::3"}, "container 'shop-lb' has no private IPv4 address"),
        ("shop-db", {"pid": 0, "private_ip": "172.30.0.6"}, "container 'shop-db' has no process id (pid 0)"),
        ("shop-db", {"private_ip": "172.30.0.6"}, "container 'shop-db' has no process id (pid None): is it running?"),
        ("shop-db", {"pid": "105", "private_ip": "172.30.0.6"}, "container 'shop-db' has no process id (pid '105')"),
        ("shop-db", "172.30.0.6", "group 2: hosts names container 'shop-db', which the container facts do not hold"),
    ],
)
def test_bad_container_facts_say_which_container(name, facts, message):
    info = copy.deepcopy(INFO)
    info[name] = facts
    with pytest.raises(AnsibleFilterError) as err:
        twin_packet_filters(rails(), info)
    assert message in str(err.value)


def test_a_source_needs_no_process_id():
    info = copy.deepcopy(INFO)
    del info["shop-lb"]["pid"]
    assert len(twin_packet_filters(rails(), info)) == 3


def test_filter_is_registered():
    assert FilterModule().filters() == {"twin_packet_filters": twin_packet_filters}
