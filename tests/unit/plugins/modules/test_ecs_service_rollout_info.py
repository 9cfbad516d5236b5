"""kumo.webstack.ecs_service_rollout_info against moto, and a Stubber for what moto lacks.

moto 5.2.5 gives a service one PRIMARY deployment at create time (rolloutState IN_PROGRESS
while runningCount < desiredCount, and runningCount is 0 unless MOTO_ECS_SERVICE_RUNNING is
set), never updates it, starts no task and registers nothing in the target groups; see the
module_utils tests for the rule on AWS-shaped answers."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import ecs_service_rollout_info as module_under_test

REGION = "ap-northeast-1"
ZERO = {"healthy": 0, "unhealthy": 0, "initial": 0, "draining": 0, "unused": 0, "unavailable": 0, "targets": []}


class Stack(dict):
    """What the moto fixture made: clients and ids."""

    __getattr__ = dict.__getitem__


@pytest.fixture(scope="module")
def stack():
    """One moto account for the module (moto's EC2 takes a second or two to set up): a VPC, an ALB
    forwarding to an IP target group, a cluster, a Fargate task definition and the service bot
    (desired 1) behind the target group. Tests that change something make their own resources."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_URL", "EC2_URL", "MOTO_ECS_SERVICE_RUNNING"):
            env.delenv(name, raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(name, "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            ec2 = boto3.client("ec2", region_name=REGION)
            elbv2 = boto3.client("elbv2", region_name=REGION)
            ecs = boto3.client("ecs", region_name=REGION)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnets = [
                ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
                    "SubnetId"
                ]
                for i, az in ((1, "a"), (2, "c"))
            ]
            group = ec2.create_security_group(GroupName="bot", Description="bot", VpcId=vpc)["GroupId"]
            balancer = elbv2.create_load_balancer(Name="bot", Subnets=subnets, SecurityGroups=[group])
            target_group = elbv2.create_target_group(
                Name="bot", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", HealthCheckPath="/health"
            )["TargetGroups"][0]["TargetGroupArn"]
            elbv2.create_listener(
                LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
                Protocol="HTTP",
                Port=80,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
            )
            ecs.create_cluster(clusterName="bot")
            task_definition = ecs.register_task_definition(
                family="bot",
                requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc",
                cpu="256",
                memory="2048",
                runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
                containerDefinitions=[
                    {"name": "web", "image": "bot:1", "essential": True, "portMappings": [{"containerPort": 8080}]}
                ],
            )["taskDefinition"]["taskDefinitionArn"]
            ecs.create_service(
                cluster="bot",
                serviceName="bot",
                taskDefinition=task_definition,
                desiredCount=1,
                launchType="FARGATE",
                loadBalancers=[{"targetGroupArn": target_group, "containerName": "web", "containerPort": 8080}],
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}},
                deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
            )
            yield Stack(ecs=ecs, elbv2=elbv2, vpc=vpc, target_group=target_group, task_definition=task_definition)


@pytest.fixture
def moto(stack, aws_env):
    return stack


def test_one_look_at_a_starting_service(run_module, moto):
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot"})
    assert result["changed"] is False
    assert result["service"]["service_name"] == "bot"
    assert result["service"]["status"] == "ACTIVE"
    assert result["service"]["desired_count"] == 1
    assert result["service"]["task_definition"] == moto.task_definition
    assert result["service"]["launch_type"] == "FARGATE"
    [deployment] = result["deployments"]
    assert result["primary"] == deployment
    assert deployment["status"] == "PRIMARY"
    assert deployment["id"].startswith("ecs-svc/")
    assert deployment["rollout_state"] == "IN_PROGRESS"  # moto: running 0 of 1, forever
    assert deployment["created_at"].endswith("Z")
    # The service's own target group, read by default; moto registers no task in it.
    assert result["targets"] == {moto.target_group: ZERO}
    assert result["stopped_tasks"] == []
    assert result["events"] == []
    assert (result["done"], result["rollout_failed"], result["circuit_breaker_rolled_back"]) == (False, False, False)
    assert result["reason"] == ""


def test_same_look_in_check_mode_and_by_arn(run_module, moto):
    service = moto.ecs.describe_services(cluster="bot", services=["bot"])["services"][0]
    args = {"cluster": service["clusterArn"], "service": service["serviceArn"]}
    result = run_module(module_under_test, args, check_mode=True)
    assert result["changed"] is False
    assert result["service"]["service_arn"] == service["serviceArn"]
    assert result["targets"] == {moto.target_group: ZERO}
    assert result["done"] is False


def test_given_target_groups_replace_the_services(run_module, moto):
    extra = moto.elbv2.create_target_group(
        Name="bot-extra", Protocol="HTTP", Port=8080, VpcId=moto.vpc, TargetType="ip"
    )
    extra = extra["TargetGroups"][0]["TargetGroupArn"]
    moto.elbv2.register_targets(TargetGroupArn=extra, Targets=[{"Id": "10.0.1.20", "Port": 8080}])
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "target_group_arns": [extra]})
    assert list(result["targets"]) == [extra]
    assert result["targets"][extra]["healthy"] == 1  # moto: healthy at once, no health check
    assert result["targets"][extra]["targets"] == [
        {"id": "10.0.1.20", "port": 8080, "state": "healthy", "reason": None, "description": None}
    ]
    assert result["done"] is False  # the deployment is still IN_PROGRESS
    assert run_module(module_under_test, {"cluster": "bot", "service": "bot", "target_group_arns": []})["targets"] == {}


def test_weekend_stop_is_done(run_module, moto):
    moto.ecs.create_service(cluster="bot", serviceName="stopped", taskDefinition="bot", desiredCount=0)
    result = run_module(module_under_test, {"cluster": "bot", "service": "stopped"})
    assert result["primary"]["rollout_state"] == "COMPLETED"
    assert result["targets"] == {}  # no load balancer
    assert (result["done"], result["rollout_failed"], result["reason"]) == (True, False, "")


def test_stopped_tasks_of_the_service_only(run_module, moto):
    # moto cannot run an awsvpc task, nor filter ListTasks by service: tasks of the group
    # "service:worker" (as ECS starts them for the service) and of another group, run by hand.
    moto.ecs.create_cluster(clusterName="jobs")
    moto.ecs.create_service(cluster="jobs", serviceName="worker", taskDefinition="bot", desiredCount=0)
    plain = moto.ecs.register_task_definition(
        family="plain", containerDefinitions=[{"name": "web", "image": "bot:1", "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    for group, reason in (("service:worker", "Essential container in task exited"), ("family:plain", "other")):
        task = moto.ecs.run_task(cluster="jobs", taskDefinition=plain, launchType="FARGATE", group=group)["tasks"][0]
        moto.ecs.stop_task(cluster="jobs", task=task["taskArn"], reason=reason)
    result = run_module(module_under_test, {"cluster": "jobs", "service": "worker"})
    [stopped] = result["stopped_tasks"]
    assert stopped["stopped_reason"] == "Essential container in task exited"
    assert stopped["task_definition"] == plain
    assert stopped["containers"][0]["name"] == "web"
    none = run_module(module_under_test, {"cluster": "jobs", "service": "worker", "stopped_tasks": 0})
    assert none["stopped_tasks"] == []


def test_deleted_service_is_failed(run_module, moto):
    moto.ecs.create_service(cluster="bot", serviceName="gone", taskDefinition="bot", desiredCount=0)
    moto.ecs.delete_service(cluster="bot", service="gone")
    result = run_module(module_under_test, {"cluster": "bot", "service": "gone"})
    assert result.failed is False
    assert (result["done"], result["rollout_failed"]) == (False, True)
    assert result["reason"] == "service gone in cluster bot is INACTIVE (deleted)"


def test_missing_service_or_cluster_fails_naming_both(run_module, moto):
    result = run_module(module_under_test, {"cluster": "bot", "service": "nope"})
    assert result.failed
    assert result["msg"] == "ECS service nope was not found in cluster bot (MISSING)"
    result = run_module(module_under_test, {"cluster": "nope", "service": "bot"})
    assert result.failed
    assert result["msg"] == "ECS cluster nope was not found (looking for service bot)"


@pytest.mark.parametrize("count", [-1, 101])
def test_stopped_tasks_out_of_range(run_module, no_api, aws_env, count):
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "stopped_tasks": count})
    assert result.failed
    assert result["msg"] == f"stopped_tasks must be between 0 and 100, not {count}"


# --- AWS's answers, stubbed -----------------------------------------------------------------

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/bot"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/bot/0123456789abcdef"
TD7 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/bot:7"
TD8 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/bot:8"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/bot/0123456789abcdef0123456789abcdef"
OLD = "ecs-svc/1675294001379389663"
NEW = "ecs-svc/8541017542349937133"


@pytest.fixture
def stubbed(aws_env, monkeypatch):
    """(ecs Stubber, elbv2 Stubber) on the clients the module gets."""
    clients = {name: boto3.client(name, region_name=REGION) for name in ("ecs", "elbv2")}
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, name, **kwargs: clients[name])
    stubbers = [Stubber(clients["ecs"]), Stubber(clients["elbv2"])]
    for stubber in stubbers:
        stubber.activate()
    yield stubbers
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def _rolling_back():
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bot/bot",
        "serviceName": "bot",
        "clusterArn": CLUSTER_ARN,
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "web", "containerPort": 8080}],
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": 1,
        "pendingCount": 0,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "taskDefinition": TD7,
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        "deployments": [
            {
                "id": OLD,
                "status": "PRIMARY",
                "taskDefinition": TD7,
                "desiredCount": 1,
                "pendingCount": 0,
                "runningCount": 1,
                "failedTasks": 0,
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": f"ECS deployment circuit breaker: rolling back to deploymentId {OLD}.",
            },
            {
                "id": NEW,
                "status": "ACTIVE",
                "taskDefinition": TD8,
                "desiredCount": 0,
                "pendingCount": 0,
                "runningCount": 0,
                "failedTasks": 10,
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
            },
        ],
        "events": [
            {"id": "2", "message": f"(service bot) rolling back to deployment {OLD}."},
            {"id": "1", "message": f"(service bot) (deployment {NEW}) deployment failed: tasks failed to start."},
        ],
        "deploymentController": {"type": "ECS"},
    }


def test_rollback_read_from_aws_answers(run_module, stubbed):
    ecs_stub, elbv2_stub = stubbed
    ecs_stub.add_response(
        "describe_services", {"services": [_rolling_back()], "failures": []}, {"cluster": "bot", "services": ["bot"]}
    )
    elbv2_stub.add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": "10.0.1.20", "Port": 8080}, "TargetHealth": {"State": "healthy"}},
                {
                    "Target": {"Id": "10.0.2.31", "Port": 8080},
                    "TargetHealth": {
                        "State": "draining",
                        "Reason": "Target.DeregistrationInProgress",
                        "Description": "Target deregistration is in progress",
                    },
                },
            ]
        },
        {"TargetGroupArn": TG},
    )
    ecs_stub.add_response(
        "list_tasks",
        {"taskArns": [TASK]},
        {"cluster": CLUSTER_ARN, "serviceName": "bot", "desiredStatus": "STOPPED", "maxResults": 100},
    )
    ecs_stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": TASK,
                    "taskDefinitionArn": TD8,
                    "group": "service:bot",
                    "startedBy": NEW,
                    "lastStatus": "STOPPED",
                    "stopCode": "EssentialContainerExited",
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"name": "web", "exitCode": 1, "lastStatus": "STOPPED"}],
                }
            ]
        },
        {"cluster": CLUSTER_ARN, "tasks": [TASK]},
    )
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot"})
    assert result.failed is False
    assert (result["done"], result["rollout_failed"], result["circuit_breaker_rolled_back"]) == (False, True, True)
    assert result["reason"] == (
        f"deployment {NEW} (bot:8) FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        f"the circuit breaker rolling back to deployment {OLD} (bot:7); "
        "last stopped task: Essential container in task exited (container web exited 1)"
    )
    assert result["primary"]["id"] == OLD
    assert [d["rollout_state"] for d in result["deployments"]] == ["IN_PROGRESS", "FAILED"]
    assert result["targets"][TG]["draining"] == 1
    assert result["targets"][TG]["targets"][1]["reason"] == "Target.DeregistrationInProgress"
    assert result["stopped_tasks"][0]["stop_code"] == "EssentialContainerExited"
    assert result["stopped_tasks"][0]["containers"] == [{"name": "web", "exit_code": 1, "reason": None}]
    assert result["service"]["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]
    assert result["events"][0]["message"] == f"(service bot) rolling back to deployment {OLD}."


def test_no_task_calls_with_stopped_tasks_0_and_no_target_groups(run_module, stubbed):
    ecs_stub, _elbv2_stub = stubbed
    ecs_stub.add_response(
        "describe_services", {"services": [_rolling_back()], "failures": []}, {"cluster": "bot", "services": ["bot"]}
    )
    result = run_module(
        module_under_test, {"cluster": "bot", "service": "bot", "stopped_tasks": 0, "target_group_arns": []}
    )
    assert result["targets"] == {}
    assert result["stopped_tasks"] == []
    assert result["reason"].endswith(f"the circuit breaker rolling back to deployment {OLD} (bot:7)")


def test_errors_say_what_was_read(run_module, stubbed):
    ecs_stub, elbv2_stub = stubbed
    ecs_stub.add_client_error("describe_services", "AccessDeniedException", "not authorized", 400)
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot"})
    assert result.failed
    assert result["msg"].startswith("Failed to describe ECS service (service bot in cluster bot)")
    assert result["error"]["code"] == "AccessDeniedException"

    ecs_stub.add_response("describe_services", {"services": [_rolling_back()], "failures": []})
    elbv2_stub.add_client_error("describe_target_health", "TargetGroupNotFound", "not found", 400)
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot"})
    assert result.failed
    assert result["msg"].startswith(f"Failed to describe target health (target group {TG} of service bot)")
