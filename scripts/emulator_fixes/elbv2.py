"""ELBv2 (application load balancers): attributes, deletion protection, SSL policies, target group attributes."""

from __future__ import annotations

from moto.elbv2.exceptions import DuplicateListenerError, ELBClientError
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer, FakeTargetGroup
from moto.elbv2.ssl_policies import SSL_POLICIES

from emulator_fixes import Patch, fix

# What AWS answers to DescribeLoadBalancerAttributes for a new application load balancer.
ALB_DEFAULT_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "client_keep_alive.seconds": "3600",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "zonal_shift.config.enabled": "false",
}


@fix
def alb_attribute_defaults(patch: Patch) -> None:
    """DescribeLoadBalancerAttributes: AWS lists every attribute of an application load balancer
    with its value (idle_timeout 60, routing.http2 true, drop_invalid_header_fields false,
    access_logs.s3.enabled false...); moto lists only five, so amazon.aws.elb_application_lb
    fails with KeyError as soon as it is asked to compare idle_timeout, http2, the access logs or
    the invalid-header setting. moto also says cross-zone "false", which an ALB never is."""
    original_init = FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.type == "application":
            self.attrs.update(ALB_DEFAULT_ATTRIBUTES)

    patch.setattr(FakeLoadBalancer, "__init__", __init__)


@fix
def deletion_protection(patch: Patch) -> None:
    """DeleteLoadBalancer: AWS refuses to delete a load balancer whose deletion protection is
    enabled (OperationNotPermitted); moto deletes it anyway, so a teardown that forgets to lift
    the protection would pass against the emulator and fail against AWS."""
    original_delete = ELBv2Backend.delete_load_balancer

    def delete_load_balancer(self, arn):
        balancer = self.load_balancers.get(arn)
        if balancer is not None and str(balancer.attrs.get("deletion_protection.enabled")).lower() == "true":
            raise ELBClientError(
                "OperationNotPermitted",
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
            )
        return original_delete(self, arn)

    patch.setattr(ELBv2Backend, "delete_load_balancer", delete_load_balancer)


@fix
def duplicate_listener_port(patch: Patch) -> None:
    """CreateListener on a port the load balancer already listens on: AWS answers with the listener
    it has when the settings are the same (the call is idempotent) and refuses other settings with
    DuplicateListener; moto looks the port up among the listeners' ARNs, never finds it, and adds
    a second listener on the port. Under the fault mode's lag a retried create then left two HTTPS
    listeners, which the next run's purge removed (changed=1 where AWS would report none)."""
    original_create = ELBv2Backend.create_listener

    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *rest, **kwargs):
        balancer = self.load_balancers.get(load_balancer_arn)
        if balancer is not None:
            for listener in list(balancer.listeners.values()):
                if str(listener.port) != str(port):
                    continue
                same = (
                    listener.protocol == (protocol or "").upper()
                    and listener.certificate == certificate
                    and [action.data for action in listener.default_actions] == list(actions)
                )
                if same:
                    return listener
                raise DuplicateListenerError()
        return original_create(
            self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *rest, **kwargs
        )

    patch.setattr(ELBv2Backend, "create_listener", create_listener)


@fix
def listener_ssl_policy(patch: Patch) -> None:
    """CreateListener: AWS refuses an unknown SslPolicy (SSLPolicyNotFound), as moto already does
    for ModifyListener; moto's CreateListener accepts any name, so a misspelt policy would pass
    against the emulator. And AWS gives a plain HTTP listener no SslPolicy at all, where moto
    reports ELBSecurityPolicy-2016-08 on it, so a playbook comparing what it asked for with what
    is there would see a policy it never set."""
    original_create = ELBv2Backend.create_listener

    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs):
        secure = (protocol or "").upper() in ("HTTPS", "TLS")
        if secure and ssl_policy is not None and ssl_policy not in SSL_POLICIES:
            raise ELBClientError("SSLPolicyNotFound", f"Policy {ssl_policy} not found")
        listener = original_create(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs)
        if not secure:
            listener.ssl_policy = None
        return listener

    patch.setattr(ELBv2Backend, "create_listener", create_listener)


# What AWS answers to DescribeTargetGroupAttributes about stickiness for a new HTTP(S) target
# group, besides stickiness.enabled and stickiness.type, which moto has.
TARGET_GROUP_STICKINESS_DEFAULTS = {
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
}


@fix
def target_group_stickiness_attributes(patch: Patch) -> None:
    """DescribeTargetGroupAttributes: AWS lists the stickiness attributes of an HTTP(S) target
    group with their defaults (stickiness.lb_cookie.duration_seconds 86400, the app cookie's name
    and duration) whether stickiness is on or not; moto lists only stickiness.enabled and
    stickiness.type, so community.aws.elb_target_group fails with KeyError
    'stickiness_lb_cookie_duration_seconds' as soon as it is asked for load balancer cookie
    stickiness with a duration."""
    original_init = FakeTargetGroup.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.protocol in ("HTTP", "HTTPS"):
            for name, value in TARGET_GROUP_STICKINESS_DEFAULTS.items():
                self.attributes.setdefault(name, value)

    patch.setattr(FakeTargetGroup, "__init__", __init__)
