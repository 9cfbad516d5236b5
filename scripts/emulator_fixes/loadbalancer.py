"""Emulator fixes for the load balancer area (ELBv2, and what it touches in ACM and Route 53).

Each fix is a place where moto answers unlike AWS in a way that would make a correct playbook
look wrong (or a wrong one look right) against the emulator. None of them changes what a real
account would do.
"""

from __future__ import annotations

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


def _alb_attribute_defaults() -> None:
    # DescribeLoadBalancerAttributes: AWS lists every attribute of an application load balancer
    # with its value (idle_timeout 60, routing.http2 true, drop_invalid_header_fields false,
    # access_logs.s3.enabled false...); moto lists only five, so amazon.aws.elb_application_lb
    # fails with KeyError as soon as it is asked to compare idle_timeout, http2, the access logs
    # or the invalid-header setting. moto also says cross-zone "false", which an ALB never is.
    from moto.elbv2.models import FakeLoadBalancer

    original_init = FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.type == "application":
            self.attrs.update(ALB_DEFAULT_ATTRIBUTES)

    FakeLoadBalancer.__init__ = __init__


def _deletion_protection() -> None:
    # DeleteLoadBalancer: AWS refuses to delete a load balancer whose deletion protection is
    # enabled (OperationNotPermitted); moto deletes it anyway, so a teardown that forgets to
    # lift the protection would pass against the emulator and fail against AWS.
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    original_delete = ELBv2Backend.delete_load_balancer

    def delete_load_balancer(self, arn):
        balancer = self.load_balancers.get(arn)
        if balancer is not None and str(balancer.attrs.get("deletion_protection.enabled")).lower() == "true":
            raise ELBClientError(
                "OperationNotPermitted",
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
            )
        return original_delete(self, arn)

    ELBv2Backend.delete_load_balancer = delete_load_balancer


def _listener_ssl_policy() -> None:
    # CreateListener: AWS refuses an unknown SslPolicy (SSLPolicyNotFound), as moto already does
    # for ModifyListener; moto's CreateListener accepts any name. And AWS gives a plain HTTP
    # listener no SslPolicy at all, where moto reports ELBSecurityPolicy-2016-08 on it.
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend
    from moto.elbv2.ssl_policies import SSL_POLICIES

    original_create = ELBv2Backend.create_listener

    def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs):
        secure = (protocol or "").upper() in ("HTTPS", "TLS")
        if secure and ssl_policy is not None and ssl_policy not in SSL_POLICIES:
            raise ELBClientError("SSLPolicyNotFound", f"Policy {ssl_policy} not found")
        listener = original_create(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs)
        if not secure:
            listener.ssl_policy = None
        return listener

    ELBv2Backend.create_listener = create_listener


def _certificate_in_use_by() -> None:
    # ACM DescribeCertificate InUseBy: AWS lists the ARNs of the load balancers whose listeners
    # use the certificate, and drops a load balancer once no listener of it does (listener or
    # load balancer deleted, certificate replaced). moto appends the listener's ARN on
    # CreateListener and never removes it, so a certificate stays "in use" forever and can
    # never be deleted by a teardown that checks InUseBy first (as AWS requires).
    from moto.acm.models import acm_backends
    from moto.elbv2.models import ELBv2Backend

    def sync_in_use(backend) -> None:
        users: dict[str, set[str]] = {}
        for balancer in backend.load_balancers.values():
            for listener in balancer.listeners.values():
                for cert in {listener.certificate, *(listener.certificates or [])}:
                    if cert:
                        users.setdefault(cert, set()).add(balancer.arn)
        acm = acm_backends[backend.account_id][backend.region_name]
        for arn, bundle in acm._certificates.items():
            others = [
                user
                for user in bundle.in_use_by
                if ":loadbalancer/app/" not in user and ":loadbalancer/net/" not in user and ":listener/" not in user
            ]
            bundle.in_use_by = others + sorted(users.get(arn, ()))

    def synced(method):
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            finally:
                sync_in_use(self)

        wrapper.__name__ = method.__name__
        return wrapper

    for name in (
        "create_listener",
        "modify_listener",
        "delete_listener",
        "delete_load_balancer",
        "add_listener_certificates",
        "remove_listener_certificates",
    ):
        setattr(ELBv2Backend, name, synced(getattr(ELBv2Backend, name)))


def _alias_target_dns_name() -> None:
    # Route 53 ListResourceRecordSets: AWS returns an alias target's DNSName fully qualified
    # (trailing dot) and in lower case, whatever form it was given in; moto returns it exactly
    # as sent, so a module that sends AWS's form reads back something else and reports a change
    # on every run against one of the two.
    from moto.route53.models import RecordSet

    original_init = RecordSet.__init__

    def __init__(self, kwargs):
        original_init(self, kwargs)
        target = self.alias_target
        if isinstance(target, dict) and isinstance(target.get("DNSName"), str):
            name = target["DNSName"].lower()
            self.alias_target = {**target, "DNSName": name if name.endswith(".") else name + "."}

    RecordSet.__init__ = __init__


def apply() -> None:
    _alb_attribute_defaults()
    _deletion_protection()
    _listener_ssl_policy()
    _certificate_in_use_by()
    _alias_target_dns_name()
