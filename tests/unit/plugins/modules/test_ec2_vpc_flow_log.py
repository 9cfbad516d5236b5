"""kumo.webstack.ec2_vpc_flow_log against moto, Stubber for the answers moto does not give."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils.vpc import flow_log_differences, log_group_arn
from ansible_collections.kumo.webstack.plugins.modules import ec2_vpc_flow_log

REGION = "ap-northeast-1"
GROUP = "/webstack/demo/vpc-flow-logs"
GROUP_ARN = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}"
ROLE_ARN = "arn:aws:iam::123456789012:role/demo-vpc-flow-logs"
TAGS = {"Name": "demo-vpc-flow-logs", "Stack": "demo", "ManagedBy": "kumo.webstack"}


@pytest.fixture
def vpc(aws_env, monkeypatch):
    """A VPC and the log group its flow log writes to; yields (ec2 client, VPC id)."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # most of a second per test otherwise
    with mock_aws():
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        ec2 = boto3.client("ec2", region_name=REGION)
        yield ec2, ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def args(vpc_id, **more):
    return {
        "resource_id": vpc_id,
        "log_destination": GROUP_ARN,
        "deliver_logs_permission_arn": ROLE_ARN,
        "tags": TAGS,
        **more,
    }


def flow_logs(ec2, vpc_id):
    return ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]


def test_create_check_mode_then_create_then_idempotent(run_module, vpc):
    ec2, vpc_id = vpc
    checked = run_module(ec2_vpc_flow_log, args(vpc_id), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["traffic_type"] == "ALL"
    assert "flow_log_id" not in checked["flow_log"]
    assert flow_logs(ec2, vpc_id) == [], "check mode created a flow log"

    made = run_module(ec2_vpc_flow_log, args(vpc_id))
    assert made["changed"] is True
    (found,) = flow_logs(ec2, vpc_id)
    assert made["flow_log"]["flow_log_id"] == found["FlowLogId"]
    assert found["TrafficType"] == "ALL"
    assert found["LogDestinationType"] == "cloud-watch-logs"
    assert found["DeliverLogsPermissionArn"] == ROLE_ARN
    assert found["MaxAggregationInterval"] == 600
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == TAGS
    assert made["flow_log"]["log_destination"] == GROUP_ARN
    assert made["flow_log"]["tags"] == TAGS

    again = run_module(ec2_vpc_flow_log, args(vpc_id), diff=True)
    assert again["changed"] is False
    assert again["flow_log"]["flow_log_id"] == found["FlowLogId"]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert run_module(ec2_vpc_flow_log, args(vpc_id), check_mode=True)["changed"] is False
    # the log group's ARN with the ":*" some answers carry is the same destination
    assert run_module(ec2_vpc_flow_log, args(vpc_id, log_destination=GROUP_ARN + ":*"))["changed"] is False


def test_another_traffic_type_replaces_the_flow_log(run_module, vpc):
    ec2, vpc_id = vpc
    first = run_module(ec2_vpc_flow_log, args(vpc_id))["flow_log"]["flow_log_id"]

    checked = run_module(ec2_vpc_flow_log, args(vpc_id, traffic_type="REJECT"), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["replaced"] == [first]
    assert checked["diff"]["before"]["traffic_type"] == "ALL"
    assert checked["diff"]["after"]["traffic_type"] == "REJECT"
    assert [f["FlowLogId"] for f in flow_logs(ec2, vpc_id)] == [first]

    replaced = run_module(ec2_vpc_flow_log, args(vpc_id, traffic_type="REJECT"))
    assert replaced["changed"] is True
    assert replaced["replaced"] == [first]
    (found,) = flow_logs(ec2, vpc_id)
    assert found["FlowLogId"] != first
    assert found["TrafficType"] == "REJECT"
    assert run_module(ec2_vpc_flow_log, args(vpc_id, traffic_type="REJECT"))["changed"] is False


def test_tags_are_changed_in_place(run_module, vpc):
    ec2, vpc_id = vpc
    first = run_module(ec2_vpc_flow_log, args(vpc_id))["flow_log"]["flow_log_id"]
    kept = run_module(ec2_vpc_flow_log, args(vpc_id, tags={"Team": "web"}, purge_tags=False))
    assert kept["changed"] is True
    assert kept["replaced"] == []
    assert kept["flow_log"]["tags"] == {**TAGS, "Team": "web"}
    purged = run_module(ec2_vpc_flow_log, args(vpc_id, tags={"Stack": "demo"}))
    assert purged["changed"] is True
    (found,) = flow_logs(ec2, vpc_id)
    assert found["FlowLogId"] == first
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == {"Stack": "demo"}
    # tags left out are not touched
    untouched = dict(args(vpc_id))
    untouched.pop("tags")
    assert run_module(ec2_vpc_flow_log, untouched)["changed"] is False


def test_a_flow_log_to_another_destination_is_left_alone(run_module, vpc):
    ec2, vpc_id = vpc
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="other")
    other = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogDestination=GROUP_ARN.replace(GROUP, "other"),
        DeliverLogsPermissionArn=ROLE_ARN,
    )["FlowLogIds"][0]
    run_module(ec2_vpc_flow_log, args(vpc_id))
    gone = run_module(ec2_vpc_flow_log, args(vpc_id, state="absent"))
    assert gone["changed"] is True
    assert [f["FlowLogId"] for f in flow_logs(ec2, vpc_id)] == [other]


def test_absent_without_destination_deletes_every_flow_log_of_the_resource(run_module, vpc):
    ec2, vpc_id = vpc
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="other")
    run_module(ec2_vpc_flow_log, args(vpc_id))
    run_module(ec2_vpc_flow_log, args(vpc_id, log_destination=GROUP_ARN.replace(GROUP, "other")))
    assert len(flow_logs(ec2, vpc_id)) == 2
    gone = run_module(ec2_vpc_flow_log, {"resource_id": vpc_id, "state": "absent"})
    assert gone["changed"] is True
    assert flow_logs(ec2, vpc_id) == []
    assert run_module(ec2_vpc_flow_log, {"resource_id": vpc_id, "state": "absent"})["changed"] is False


def test_present_needs_a_destination(run_module, aws_env, no_api):
    result = run_module(ec2_vpc_flow_log, {"resource_id": "vpc-1", "deliver_logs_permission_arn": ROLE_ARN})
    assert result.failed
    assert "log_destination" in result["msg"]


def test_absent_check_mode_then_delete_then_nothing(run_module, vpc):
    ec2, vpc_id = vpc
    run_module(ec2_vpc_flow_log, args(vpc_id))
    checked = run_module(ec2_vpc_flow_log, args(vpc_id, state="absent"), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {}
    assert len(flow_logs(ec2, vpc_id)) == 1
    gone = run_module(ec2_vpc_flow_log, args(vpc_id, state="absent"))
    assert gone["changed"] is True
    assert gone["flow_log"] == {}
    assert flow_logs(ec2, vpc_id) == []
    assert run_module(ec2_vpc_flow_log, args(vpc_id, state="absent"))["changed"] is False
    assert run_module(ec2_vpc_flow_log, args(vpc_id, state="absent"), check_mode=True)["changed"] is False


def test_cloudwatch_logs_needs_a_role(run_module, aws_env, no_api):
    result = run_module(ec2_vpc_flow_log, {"resource_id": "vpc-1", "log_destination": GROUP_ARN})
    assert result.failed
    assert "deliver_logs_permission_arn is required" in result["msg"]


def test_unsuccessful_creation_fails_with_the_reason(run_module, module_stubber):
    stub = module_stubber("ec2")
    stub.add_response("describe_flow_logs", {"FlowLogs": []})
    stub.add_response(
        "create_flow_logs",
        {
            "FlowLogIds": [],
            "Unsuccessful": [
                {"ResourceId": "vpc-1", "Error": {"Code": "400", "Message": "Access error: the role cannot be assumed"}}
            ],
        },
    )
    result = run_module(ec2_vpc_flow_log, args("vpc-1"))
    assert result.failed
    assert "did not create the flow log of vpc-1" in result["msg"]
    assert "Access error" in result["msg"]


def test_api_error_is_reported(run_module, module_stubber):
    stub = module_stubber("ec2")
    stub.add_client_error("describe_flow_logs", service_error_code="UnauthorizedOperation", http_status_code=403)
    result = run_module(ec2_vpc_flow_log, args("vpc-1"))
    assert result.failed
    assert "describe flow logs" in result["msg"]


def test_pure_helpers():
    assert log_group_arn(GROUP_ARN + ":*") == GROUP_ARN
    assert log_group_arn(None) is None
    current = {"traffic_type": "ALL", "log_format": "${version}", "max_aggregation_interval": 600}
    assert flow_log_differences(current, {"traffic_type": "ALL", "log_format": None}) == []
    assert flow_log_differences(current, {"traffic_type": "REJECT", "max_aggregation_interval": 60}) == [
        "max_aggregation_interval",
        "traffic_type",
    ]
