"""Keypairs: reading public keys and their fingerprints, generating keys, one user's keypairs."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.http.listing import page
from onestack.services.compute.models import KeyPair
from onestack.services.compute.service.quotas import QuotaExceeded, Quotas

# Microsoft's User Principal Name, the identity WinRM maps a client certificate to.
UPN = "1.3.6.1.4.1.311.20.2.3"
INVALID = "Keypair data is invalid: failed to generate fingerprint"


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob, as ``ssh-keygen -E md5 -l`` and Nova show it; the key must parse."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, TypeError, UnicodeError, UnsupportedAlgorithm):
        # UnsupportedAlgorithm: a key type cryptography does not know (``b'\xc2\x83...' AAAA``), once a 500
        raise BadRequest(INVALID) from None
    return colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the certificate, as Nova shows x509 keypairs."""
    from cryptography import x509  # x509 keypairs only: its import cost every start 20 ms of CPU

    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
        raise BadRequest(f"Keypair data is invalid: failed to generate X509 fingerprint. Error message: {exc}"
                         ) from None
    return colon_hex(cert.fingerprint(hashes.SHA1()))  # noqa: S303 - the fingerprint Nova shows is SHA-1


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    # The traditional "BEGIN RSA PRIVATE KEY" form Nova hands out, which every ssh client reads.
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def generate_ssh() -> tuple[str, str]:
    """(private key PEM, public key in OpenSSH form)."""
    key = _rsa_key()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return _private_pem(key), f"{public.decode()} Generated-by-Nova"


def _der_utf8(text: str) -> bytes:
    """A DER UTF8String (an OtherName's value is raw DER)."""
    data = text.encode()
    size = len(data)
    if size < 0x80:
        length = bytes([size])
    else:
        octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return b"\x0c" + length + data


def generate_x509(user_id: str) -> tuple[str, str]:
    """(private key PEM, self-signed client certificate PEM) for WinRM, made out to the user as Nova does."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    key = _rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    now = datetime.datetime.now(datetime.UTC)
    upn = x509.OtherName(ObjectIdentifier(UPN), _der_utf8(f"{user_id}@localhost"))
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([upn]), critical=False)
            .sign(key, hashes.SHA256()))
    return _private_pem(key), cert.public_bytes(serialization.Encoding.PEM).decode()


# -- one user's keypairs -------------------------------------------------------------------
def get(session: Session, user_id: str, name: str) -> KeyPair:
    found = session.scalar(select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name))
    if found is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    return found


def count(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(KeyPair).where(KeyPair.user_id == user_id)) or 0


def listing(session: Session, user_id: str, query, limit: int | None) -> list[KeyPair]:
    rows = session.scalars(select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)).all()
    try:
        shown, _ = page(rows, query, limit, key=lambda k: k.name)
    except NotFound:
        raise BadRequest(f"Marker {query.get('marker')} could not be found.") from None
    return shown


def create(session: Session, quotas: Quotas, project_id: str | None, user_id: str, name: str, kind: str,
           public_key: str | None) -> tuple[KeyPair, str | None]:
    """Import ``public_key`` or, without one, generate a key; returns the keypair and the private key
    (generated keys only: it is shown once and never stored)."""
    try:
        quotas.check(session, project_id or user_id, user_id, {"key_pairs": 1})
    except QuotaExceeded:
        raise Forbidden("Quota exceeded, too many key pairs.") from None
    if session.scalar(select(KeyPair.id).where(KeyPair.user_id == user_id, KeyPair.name == name)) is not None:
        raise Conflict(f"Key pair '{name}' already exists.")
    private_key = None
    if public_key is None:
        private_key, public_key = generate_x509(user_id) if kind == "x509" else generate_ssh()
    fingerprint = x509_fingerprint(public_key) if kind == "x509" else ssh_fingerprint(public_key)
    keypair = KeyPair(user_id=user_id, name=name, type=kind, fingerprint=fingerprint, public_key=public_key)
    session.add(keypair)
    session.flush()
    return keypair, private_key


@dataclasses.dataclass(eq=False)
class Keypairs:
    """The keypair API's transactions, for one user's keypairs."""
    db: Database
    quotas: Quotas

    def listing(self, user_id: str, query, limit: int | None) -> list[KeyPair]:
        with self.db.read() as session:
            return listing(session, user_id, query, limit)

    def create(self, project_id: str | None, user_id: str, name: str, kind: str,
               public_key: str | None) -> tuple[KeyPair, str | None]:
        with self.db.write() as session:
            return create(session, self.quotas, project_id, user_id, name, kind, public_key)

    def get(self, user_id: str, name: str) -> KeyPair:
        with self.db.read() as session:
            return get(session, user_id, name)

    def delete(self, user_id: str, name: str) -> None:
        with self.db.write() as session:
            session.delete(get(session, user_id, name))
