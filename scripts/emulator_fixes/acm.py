"""ACM: the key algorithm of a requested certificate, and which load balancers use a certificate."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto.acm.models import acm_backends
from moto.acm.responses import AWSCertificateManagerResponse
from moto.elbv2.models import ELBv2Backend

from emulator_fixes import Patch, fix

# The ELBv2 calls after which ACM's InUseBy is brought up to date.
LISTENER_CHANGES = (
    "create_listener",
    "modify_listener",
    "delete_listener",
    "delete_load_balancer",
    "add_listener_certificates",
    "remove_listener_certificates",
)


@fix
def request_certificate_key_algorithm(patch: Patch) -> None:
    """RequestCertificate KeyAlgorithm: AWS issues the certificate with the key pair asked for
    (RSA_2048, EC_prime256v1 or EC_secp384r1) and DescribeCertificate reports that algorithm;
    moto ignores the parameter and always makes an RSA 2048 key. A playbook asking for an ECDSA
    certificate then never finds the one it requested (the key algorithm differs), so it
    requests another one on every run."""
    curves = {"EC_prime256v1": ec.SECP256R1, "EC_secp384r1": ec.SECP384R1}
    original = AWSCertificateManagerResponse.request_certificate

    def request_certificate(self):
        result = original(self)
        curve = curves.get(self._get_param("KeyAlgorithm") or "")
        if curve is None:
            return result
        bundle = self.acm_backend.get_certificate(result.result["CertificateArn"])
        if isinstance(bundle._key, ec.EllipticCurvePrivateKey) and isinstance(bundle._key.curve, curve):
            return result  # an idempotent repeat of the same request
        key = ec.generate_private_key(curve())
        old = bundle._cert
        builder = (
            x509.CertificateBuilder()
            .subject_name(old.subject)
            .issuer_name(old.issuer)
            .public_key(key.public_key())
            .serial_number(old.serial_number)
            .not_valid_before(old.not_valid_before_utc)
            .not_valid_after(old.not_valid_after_utc)
        )
        for extension in old.extensions:
            builder = builder.add_extension(extension.value, critical=extension.critical)
        cert = builder.sign(key, hashes.SHA256())
        bundle.cert = cert.public_bytes(serialization.Encoding.PEM)
        bundle.key = key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.TraditionalOpenSSL,
            encryption_algorithm=serialization.NoEncryption(),
        )
        bundle._key = key
        bundle._cert = cert
        return result

    patch.setattr(AWSCertificateManagerResponse, "request_certificate", request_certificate)


@fix
def in_use_by_follows_listeners(patch: Patch) -> None:
    """DescribeCertificate InUseBy: AWS lists the ARNs of the load balancers whose listeners use
    the certificate, and drops a load balancer once no listener of it does (listener or load
    balancer deleted, certificate replaced). moto appends the listener's ARN on CreateListener
    and never removes it, so a certificate stays "in use" forever and a teardown that checks
    InUseBy before deleting it (as AWS requires) can never delete it. Brought up to date after
    every ELBv2 call that changes a listener's certificates."""

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

    for name in LISTENER_CHANGES:
        patch.setattr(ELBv2Backend, name, synced(getattr(ELBv2Backend, name)))
