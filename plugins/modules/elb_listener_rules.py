#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elb_listener_rules
version_added: 0.1.0
short_description: Reconcile one owner's rules on an application load balancer listener
description:
  - Makes the rules of one owner on a listener of an application load balancer exactly the rules
    given, and leaves every other rule of the listener alone. Several stacks can so share one
    listener, each managing only its own rules.
  - A rule belongs to the owner when it carries every tag of O(match_tags). Each rule given is
    identified by its O(rules[].name), kept in the rule's C(Name) tag.
  - Rules of the owner that are not given are deleted; rules that differ in priority, conditions or
    actions are changed in place; missing ones are created with the tags O(match_tags),
    O(tags) and C(Name).
  - "Fails before any change when a priority given is held by a rule of another owner."
  - amazon.aws.elb_application_lb can manage a listener's rules, but only all of them
    (O(amazon.aws.elb_application_lb#module:purge_rules)) and only with the load balancer itself;
    this module manages a subset on a load balancer that someone else owns.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  listener_arn:
    description:
      - ARN of the listener.
    type: str
    required: true
    version_added: 0.1.0
  rules:
    description:
      - The owner's rules; V([]) deletes them all.
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
    suboptions:
      name:
        description: "Name of the rule, unique among the owner's rules (the C(Name) tag)."
        type: str
        required: true
      priority:
        description: "Priority of the rule, 1 to 50000 (lower is evaluated first)."
        type: int
        required: true
      conditions:
        description:
          - Conditions as the ELBv2 API takes them, each a C(Field) (V(host-header), V(path-pattern), ...)
            with its values in the field's config, e.g. C(HostHeaderConfig.Values).
        type: list
        elements: dict
        required: true
      actions:
        description:
          - Actions as the ELBv2 API takes them (C(forward) with C(TargetGroupArn),
            C(fixed-response) with C(FixedResponseConfig), C(redirect) with C(RedirectConfig)).
        type: list
        elements: dict
        required: true
  match_tags:
    description:
      - Tags that mark a rule as the owner's, for example C(Stack=shop) and C(ManagedBy=kumo.webstack).
        Every rule created carries them.
    type: dict
    required: true
    version_added: 0.1.0
  tags:
    description:
      - Further tags for the rules created, and added to the owner's rules that lack them (never removed).
    type: dict
    default: {}
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    details:
      - The listener's rules are read, and RV(changes) lists what would be deleted, moved, changed, created
        and tagged, without doing it. Rules that would be created are returned with an empty ARN.
  diff_mode:
    support: full
    details:
      - The owner's rules, by name, with their priority, conditions and actions, before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Send www.example.com/maintenance/* to the sorry group, answer /closed with a fixed 503
  kumo.webstack.elb_listener_rules:
    listener_arn: "{{ https_listener_arn }}"
    match_tags:
      Stack: sorry
      ManagedBy: kumo.webstack
    rules:
      - name: sorry-www
        priority: 10
        conditions:
          - Field: host-header
            HostHeaderConfig: {Values: [www.example.com]}
          - Field: path-pattern
            PathPatternConfig: {Values: ["/maintenance/*"]}
        actions:
          - Type: forward
            TargetGroupArn: "{{ sorry_target_group_arn }}"
      - name: sorry-closed
        priority: 20
        conditions:
          - Field: path-pattern
            PathPatternConfig: {Values: [/closed]}
        actions:
          - Type: fixed-response
            FixedResponseConfig: {StatusCode: "503", ContentType: text/plain, MessageBody: closed}

- name: Remove the stack's rules, and only them
  kumo.webstack.elb_listener_rules:
    listener_arn: "{{ https_listener_arn }}"
    match_tags: {Stack: sorry, ManagedBy: kumo.webstack}
    rules: []
"""

RETURN = r"""
rules:
  description: The owner's rules after the task, by priority (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the rule (its C(Name) tag).
      type: str
      sample: sorry-www
    arn:
      description: ARN of the rule; empty for a rule check mode would create.
      type: str
      sample: arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener-rule/app/shop-alb/0123/4567/89ab
    priority:
      description: Priority of the rule.
      type: int
      sample: 10
changes:
  description: What was (or in check mode would be) done, one line per rule.
  returned: always
  type: list
  elements: str
  sample: ["create sorry-www (priority 10)", "delete sorry-old (priority 30)"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.elbv2 import (  # noqa: E402
    add_tags,
    create_rule,
    delete_rule,
    describe_rules,
    describe_tags,
    modify_rule,
    normalize_actions,
    normalize_conditions,
    set_rule_priorities,
)


def _view(priority, conditions, actions):
    return {"priority": priority, "conditions": conditions, "actions": actions}


def plan(current, tags_by_arn, wanted, match_tags, extra_tags):
    """Decide what to do. ``current``: the listener's rules as describe_rules returns them;
    ``tags_by_arn``: their tags. Returns (plan dict, error or None)."""
    ours, foreign = {}, {}
    duplicates = []
    for rule in current:
        if rule.get("IsDefault") or rule.get("Priority") == "default":
            continue
        tags = tags_by_arn.get(rule["RuleArn"], {})
        priority = int(rule["Priority"])
        if all(tags.get(k) == v for k, v in match_tags.items()):
            name = tags.get("Name", "")
            if name in ours or not name:
                duplicates.append((name or "(no name)", rule, tags))
            else:
                ours[name] = (rule, tags)
        else:
            foreign[priority] = tags
    want_tags = dict(extra_tags, **match_tags)
    steps = {"delete": [], "priorities": [], "modify": [], "create": [], "tag": []}
    wanted_names = {r["name"] for r in wanted}
    for name, (rule, _tags) in ours.items():
        if name not in wanted_names:
            steps["delete"].append((name, rule))
    for name, rule, _tags in duplicates:
        steps["delete"].append((name, rule))
    for want in wanted:
        priority = want["priority"]
        if priority in foreign:
            owner = foreign[priority].get("Stack") or foreign[priority].get("Name") or "untagged"
            return None, (
                f"Priority {priority} of rule {want['name']} is held by a rule that is not this owner's"
                f" (its Stack or Name tag: {owner}); choose another priority."
            )
        have = ours.get(want["name"])
        if have is None:
            steps["create"].append(want)
            continue
        rule, tags = have
        if int(rule["Priority"]) != priority:
            steps["priorities"].append((want["name"], rule, priority))
        if normalize_conditions(rule.get("Conditions")) != normalize_conditions(want["conditions"]) or (
            normalize_actions(rule.get("Actions")) != normalize_actions(want["actions"])
        ):
            steps["modify"].append((want["name"], rule, want))
        missing = {k: v for k, v in dict(want_tags, Name=want["name"]).items() if tags.get(k) != v}
        if missing:
            steps["tag"].append((want["name"], rule, missing))
    before = {
        name: _view(
            int(rule["Priority"]), normalize_conditions(rule.get("Conditions")), normalize_actions(rule.get("Actions"))
        )
        for name, (rule, _tags) in ours.items()
    }
    after = {
        w["name"]: _view(w["priority"], normalize_conditions(w["conditions"]), normalize_actions(w["actions"]))
        for w in wanted
    }
    return {"steps": steps, "ours": ours, "before": before, "after": after}, None


def describe(client, listener_arn, match_tags):
    current = describe_rules(client, listener_arn)
    if current is None:
        return None, {}
    arns = [r["RuleArn"] for r in current if not r.get("IsDefault")]
    return current, describe_tags(client, arns) if arns else {}


def main():
    rule_spec = dict(
        name=dict(type="str", required=True),
        priority=dict(type="int", required=True),
        conditions=dict(type="list", elements="dict", required=True),
        actions=dict(type="list", elements="dict", required=True),
    )
    argument_spec = dict(
        listener_arn=dict(type="str", required=True),
        rules=dict(type="list", elements="dict", required=True, options=rule_spec),
        match_tags=dict(type="dict", required=True),
        tags=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not params["match_tags"]:
        module.fail_json(
            msg="match_tags must hold at least one tag: without it every rule of the listener would be ours."
        )
    names = [r["name"] for r in params["rules"]]
    priorities = [r["priority"] for r in params["rules"]]
    if len(set(names)) != len(names) or len(set(priorities)) != len(priorities):
        module.fail_json(
            msg=f"Rule names and priorities must be unique; got names {names} and priorities {priorities}."
        )
    bad = [p for p in priorities if not 1 <= p <= 50000]
    if bad:
        module.fail_json(msg=f"Rule priorities must be from 1 to 50000; got {bad}.")
    client = module.client("elbv2")
    try:
        current, tags_by_arn = describe(client, params["listener_arn"], params["match_tags"])
        if current is None:
            module.fail_json(msg=f"Listener {params['listener_arn']} does not exist.")
        decided, error = plan(current, tags_by_arn, params["rules"], params["match_tags"], params["tags"])
        if error:
            module.fail_json(msg=error)
        steps = decided["steps"]
        changes = [f"delete {name} (priority {rule['Priority']})" for name, rule in steps["delete"]]
        changes += [f"move {name} from priority {rule['Priority']} to {p}" for name, rule, p in steps["priorities"]]
        changes += [f"change {name}" for name, _rule, _want in steps["modify"]]
        changes += [f"create {w['name']} (priority {w['priority']})" for w in steps["create"]]
        changes += [f"tag {name} ({', '.join(sorted(missing))})" for name, _rule, missing in steps["tag"]]
        result = {"changed": bool(changes), "changes": changes}
        if module._diff:
            result["diff"] = {"before": decided["before"], "after": decided["after"]}
        arns = {name: rule["RuleArn"] for name, (rule, _tags) in decided["ours"].items()}
        if changes and not module.check_mode:
            for _name, rule in steps["delete"]:
                delete_rule(client, rule["RuleArn"])
            if steps["priorities"]:
                set_rule_priorities(
                    client, [{"RuleArn": rule["RuleArn"], "Priority": p} for _n, rule, p in steps["priorities"]]
                )
            for _name, rule, want in steps["modify"]:
                modify_rule(client, RuleArn=rule["RuleArn"], Conditions=want["conditions"], Actions=want["actions"])
            for want in steps["create"]:
                tags = dict(params["tags"], **params["match_tags"], Name=want["name"])
                created = create_rule(
                    client,
                    ListenerArn=params["listener_arn"],
                    Priority=want["priority"],
                    Conditions=want["conditions"],
                    Actions=want["actions"],
                    Tags=[{"Key": k, "Value": str(v)} for k, v in tags.items()],
                )
                arns[want["name"]] = created["RuleArn"]
            for _name, rule, missing in steps["tag"]:
                add_tags(client, rule["RuleArn"], missing)
        result["rules"] = sorted(
            ({"name": r["name"], "arn": arns.get(r["name"], ""), "priority": r["priority"]} for r in params["rules"]),
            key=lambda r: r["priority"],
        )
        module.exit_json(**result)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
