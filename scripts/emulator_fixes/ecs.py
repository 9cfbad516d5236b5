"""ECS: what CreateService keeps, and a service's deployments rolling out."""

from __future__ import annotations

import ipaddress

from moto.core.utils import utcnow
from moto.ec2 import ec2_backends
from moto.ec2.utils import random_private_ip
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random

from emulator_fixes import Patch, fix

# What a change of these makes a new deployment on UpdateService (a change of the desired count
# only scales the running one).
NEW_DEPLOYMENT = ("task_definition", "network_configuration", "capacity_provider_strategy", "platform_version")


@fix
def create_service_settings(patch: Patch) -> None:
    """CreateService capacityProviderStrategy, deploymentConfiguration and
    healthCheckGracePeriodSeconds: AWS keeps all three and returns them in DescribeServices (a
    service with a capacity provider strategy has no launchType); moto drops them and reports
    launchType EC2, although its UpdateService keeps them. So a Fargate Spot service reads back
    as an EC2 service without its circuit breaker, and community.aws.ecs_service refuses to update
    it ("not possible to change an existing service from launch_type to
    capacity_provider_strategy") on the next change of its task definition."""
    original_create = EC2ContainerServiceResponse.create_service

    def create_service(self):
        strategy = self._get_param("capacityProviderStrategy")
        configuration = self._get_param("deploymentConfiguration")
        grace = self._get_param("healthCheckGracePeriodSeconds")
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        if strategy:
            service.capacity_provider_strategy = strategy
            if self._get_param("launchType") is None:
                service.launch_type = None
                for deployment in service.deployments:
                    deployment.pop("launchType", None)
                    deployment["capacityProviderStrategy"] = strategy
        if configuration is not None:
            service.deployment_configuration = configuration
        if grace is not None:
            service.health_check_grace_period_seconds = int(grace)
        return result

    patch.setattr(EC2ContainerServiceResponse, "create_service", create_service)


@fix
def list_tags_of_untagged_resource(patch: Patch) -> None:
    """ListTagsForResource on a resource without tags (a cluster created without any): AWS
    answers tags [], moto leaves the key out, so community.aws.ecs_tag fails with KeyError 'tags'
    on the way to tagging it."""
    original_list = EC2ContainerServiceBackend.list_tags_for_resource

    def list_tags_for_resource(self, resource_arn):
        return original_list(self, resource_arn) or []

    patch.setattr(EC2ContainerServiceBackend, "list_tags_for_resource", list_tags_for_resource)


def _target_ips(service, count):
    """count addresses in the service's first subnet, as Fargate gives its tasks."""
    subnets = (service.network_configuration or {}).get("awsvpcConfiguration", {}).get("subnets") or []
    if not subnets:
        return []
    subnet = ec2_backends[service._account_id][service.region_name].get_subnet(subnets[0])
    network = ipaddress.IPv4Network(subnet.cidr_block)
    # distinct addresses (two tasks never share one), none of the five AWS reserves in a subnet
    reserved = {network.network_address + i for i in range(4)} | {network.broadcast_address}
    ips: list[str] = []
    while len(ips) < min(count, network.num_addresses - len(reserved)):
        ip = random_private_ip(subnet.cidr_block)
        if ipaddress.IPv4Address(ip) not in reserved and ip not in ips:
            ips.append(ip)
    return ips


def _move_targets(service, count):
    """Deregister the service's tasks' addresses from its target groups, register count new ones
    (a target group that does not exist is left alone)."""
    elbv2 = elbv2_backends[service._account_id][service.region_name]
    before = service.__dict__.get("_webstack_targets", [])
    for arn, target in before:
        group = elbv2.target_groups.get(arn)
        if group is not None and target["Id"] in group.targets:
            group.deregister([target])
    after = []
    ips = _target_ips(service, count)
    for balancer in service.load_balancers or []:
        group = elbv2.target_groups.get(balancer.get("targetGroupArn"))
        if group is None:
            continue
        targets = [{"Id": ip, "Port": int(balancer.get("containerPort") or group.port)} for ip in ips]
        group.register(targets)
        after.extend((group.arn, target) for target in targets)
    service.__dict__["_webstack_targets"] = after


def _roll_out(backend, service, new):
    """The service's PRIMARY deployment (a new one when `new`) has all its tasks running."""
    if service.task_definition:
        service.task_definition = backend.describe_task_definition(service.task_definition).arn
    count = service.desired_count or 0
    now = utcnow()
    if new or not service.deployments:
        deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
        deployment = {
            "id": deployment_id,
            "status": "PRIMARY",
            "createdAt": now,
            "networkConfiguration": service.network_configuration or None,
            "platformVersion": service.platform_version,
        }
        strategy = getattr(service, "capacity_provider_strategy", None)
        if strategy:
            deployment["capacityProviderStrategy"] = strategy
        else:
            deployment["launchType"] = service.launch_type
        service.deployments = [deployment]
    deployment = service.deployments[0]
    deployment.update(
        taskDefinition=service.task_definition,
        desiredCount=count,
        runningCount=count,
        pendingCount=0,
        failedTasks=0,
        rolloutState="COMPLETED",
        rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        updatedAt=now,
    )
    service.running_count = count
    service.pending_count = 0
    _move_targets(service, count)


@fix
def service_deployments_roll_out(patch: Patch) -> None:
    """CreateService and UpdateService: AWS starts the tasks of a new deployment (new task
    definition, network configuration, capacity provider strategy or forceNewDeployment),
    registers their addresses in the service's target groups and marks the deployment COMPLETED
    once they run and pass the health checks; a new desired count scales the running deployment;
    DeleteService stops the tasks and deregisters them. moto runs no task: a deployment stays
    IN_PROGRESS with runningCount 0 for good (unless MOTO_ECS_SERVICE_RUNNING is set, for every
    service alike), UpdateService makes no new deployment and stores the task definition as given
    ("bot:2", where AWS answers with its ARN), and no target is ever registered, so a playbook
    that waits for a rollout waits forever. The emulator has no tasks to run, so each deployment
    completes at once: its tasks count as running and as many addresses of the service's first
    subnet are registered, healthy, in its target groups."""
    original_create = EC2ContainerServiceBackend.create_service
    original_update = EC2ContainerServiceBackend.update_service
    original_delete = EC2ContainerServiceBackend.delete_service

    def create_service(self, *args, **kwargs):
        service = original_create(self, *args, **kwargs)
        _roll_out(self, service, new=True)
        return service

    def update_service(self, service_properties):
        forced = bool(service_properties.get("force_new_deployment"))
        service = self._get_service(
            service_properties.get("cluster", "default"), service_properties["service"].split("/")[-1]
        )
        before = {name: getattr(service, name, None) for name in NEW_DEPLOYMENT}
        if before["task_definition"]:
            before["task_definition"] = self.describe_task_definition(before["task_definition"]).arn
        service = original_update(self, service_properties)
        after = {name: getattr(service, name, None) for name in NEW_DEPLOYMENT}
        if after["task_definition"]:
            after["task_definition"] = self.describe_task_definition(after["task_definition"]).arn
        _roll_out(self, service, new=forced or before != after)
        return service

    def delete_service(self, cluster_name, service_name, force):
        service = original_delete(self, cluster_name, service_name, force)
        service.desired_count = service.running_count = 0
        _move_targets(service, 0)
        for deployment in service.deployments:
            deployment.update(desiredCount=0, runningCount=0, pendingCount=0)
        return service

    patch.setattr(EC2ContainerServiceBackend, "create_service", create_service)
    patch.setattr(EC2ContainerServiceBackend, "update_service", update_service)
    patch.setattr(EC2ContainerServiceBackend, "delete_service", delete_service)
