"""Emulator fixes for the domain area (ACM certificates requested for the stack's domain).

Each fix is a place where moto answers unlike AWS in a way that would make a correct playbook
look wrong against the emulator. None of them changes what a real account would do.
"""

from __future__ import annotations


def _request_certificate_key_algorithm() -> None:
    # RequestCertificate KeyAlgorithm: AWS issues the certificate with the key pair asked for
    # (RSA_2048, EC_prime256v1 or EC_secp384r1) and DescribeCertificate reports that algorithm;
    # moto ignores the parameter and always makes an RSA 2048 key. A playbook asking for an ECDSA
    # certificate then never finds the one it requested (the key algorithm differs), so it
    # requests another one on every run.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from moto.acm.responses import AWSCertificateManagerResponse

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

    AWSCertificateManagerResponse.request_certificate = request_certificate


def apply() -> None:
    _request_certificate_key_algorithm()
