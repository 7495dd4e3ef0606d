"""HTTPS for the API port: the certificate it serves and the CA its clients are told to trust.

With ``tls.enabled`` and no ``tls.cert_file``, the cloud is its own small certificate authority: at the first
start it makes a CA (``DATA_DIR/tls/ca.pem``, its key ``ca.key`` readable by the cloud's user only) and a
server certificate it signs (``server.pem``, ``server.key``) naming the bind address, 127.0.0.1, ::1,
localhost, the machine's host names, the public URL's host and ``tls.names``.  Every start keeps the CA and
makes a new server certificate only when the old one is missing, does not match its key, is not the CA's,
lacks a wanted name or expires within ``RENEW_WITHIN``; clients that trust the CA never notice.

An operator's own certificate and key (``tls.cert_file``, ``tls.key_file``) are served as they are, and
``tls.ca_file`` (if given) is the CA the written ``clouds.yaml``/``openrc`` name.

Every file is written whole (a temporary file renamed over it), key first: a ``kill -9`` midway leaves either
the old pair or a key without its certificate, which the next start sees and replaces.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from onestack.config import Settings

LOG = logging.getLogger("onestack.tls")
TLS_DIR = "tls"
TRUST_FILE = "trust.pem"
CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate
RENEW_WITHIN = datetime.timedelta(days=30)


@dataclasses.dataclass(frozen=True)
class Files:
    """What uvicorn serves (``cert``, ``key``) and the CA clients should trust (None: the system's)."""

    cert: Path
    key: Path
    ca: Path | None


def tls_dir(settings: Settings) -> Path:
    return settings.data_dir / TLS_DIR


def files(settings: Settings) -> Files:
    """Where the served certificate, its key and the CA are (they need not exist yet)."""
    tls = settings.tls
    if tls.cert_file:
        return Files(Path(tls.cert_file), Path(tls.key_file or tls.cert_file), Path(tls.ca_file) if tls.ca_file else None)
    root = tls_dir(settings)
    return Files(root / "server.pem", root / "server.key", root / "ca.pem")


def ca_path(settings: Settings) -> Path | None:
    """The CA a client of this cloud should verify it with; None when TLS is off or the system's CAs do."""
    return files(settings).ca if settings.tls.enabled else None


def names(settings: Settings) -> list[str]:
    """The host names and addresses the generated server certificate is valid for."""
    wanted = [settings.host.strip("[]"), "127.0.0.1", "::1", "localhost", socket.gethostname(), socket.getfqdn()]
    if settings.public_url:
        wanted.append(urlsplit(settings.public_url).hostname or "")
    wanted += settings.tls.names
    seen: list[str] = []
    for name in wanted:
        name = name.strip().lower()
        if name and name not in ("0.0.0.0", "::") and name not in seen:
            seen.append(name)
    return seen


def ensure(settings: Settings) -> Files:
    """The files to serve, made or renewed as the module's docstring says; an operator's files must exist."""
    found = files(settings)
    if settings.tls.cert_file:
        for path in (found.cert, found.key, *([found.ca] if found.ca else [])):
            if not path.is_file():
                raise FileNotFoundError(f"tls: {path} (named in onestack.yaml) does not exist")
        return found
    root = tls_dir(settings)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert, ca_key = _authority(root)
    if not _server_usable(found.cert, found.key, ca_cert, names(settings)):
        _issue_server(found.cert, found.key, ca_cert, ca_key, names(settings))
        LOG.info("tls: server certificate %s issued for %s", found.cert, ", ".join(names(settings)))
    return found


def uvicorn_options(found: Files) -> dict:
    """uvicorn.Config's keyword arguments that make it serve HTTPS with these files."""
    return {"ssl_certfile": str(found.cert), "ssl_keyfile": str(found.key)}


def trust_in_process(settings: Settings, found: Files) -> Path | None:
    """Make this process's own HTTPS clients (the dashboard, orchestration, volume backups to Swift: they
    call the cloud at its catalog URLs) trust the cloud's CA as well as the public ones: a bundle of what
    ``SSL_CERT_FILE`` named (else certifi's CAs) and the cloud's CA, named by ``SSL_CERT_FILE``, which
    httpx and the standard library read.  Returns the bundle, or None when there is no CA to add."""
    if found.ca is None:
        return None
    import certifi

    current = os.environ.get("SSL_CERT_FILE")
    trust = tls_dir(settings) / TRUST_FILE
    if current and Path(current).resolve() == trust.resolve():
        current = None  # a restart in the same environment: start again from the public CAs
    base = Path(current) if current and Path(current).is_file() else Path(certifi.where())
    text = base.read_text()
    _write(trust, (text if text.endswith("\n") else text + "\n") + found.ca.read_text(), private=False)
    os.environ["SSL_CERT_FILE"] = str(trust)
    return trust


# -- making them ----------------------------------------------------------------------------------------------
def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write(path: Path, data: str | bytes, *, private: bool) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load(cert_path: Path, key_path: Path):
    """(certificate, key) if both files exist and belong together, else None."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return None
    return cert, key


def _authority(root: Path):
    """The cloud's CA, made once in its life (again only if its files are lost, broken or it expires)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = root / "ca.pem", root / "ca.key"
    loaded = _load(cert_path, key_path)
    if loaded is not None and loaded[0].not_valid_after_utc - _now() > RENEW_WITHIN:
        return loaded
    if cert_path.exists():
        LOG.warning("tls: the CA in %s is missing its key, broken or expiring: a new CA is made, and clients "
                    "must be given the new %s", root, cert_path)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "onestack"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"onestack CA {socket.gethostname()}")])
    now = _now()
    ident = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ident, critical=False)
            .sign(key, hashes.SHA256()))
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(_pem()), private=False)
    return cert, key


def _pem():
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM


def _sans(wanted: list[str]):
    from cryptography import x509

    general = []
    for name in wanted:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return general


def _server_usable(cert_path: Path, key_path: Path, ca_cert, wanted: list[str]) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    loaded = _load(cert_path, key_path)
    if loaded is None:
        return False
    cert = loaded[0]
    try:
        cert.verify_directly_issued_by(ca_cert)
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return False
    return (cert.not_valid_after_utc - _now() > RENEW_WITHIN
            and all(san in list(present) for san in _sans(wanted)))


def _issue_server(cert_path: Path, key_path: Path, ca_cert, ca_key, wanted: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "onestack"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, wanted[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(now + datetime.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(_sans(wanted)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                         crl_sign=False, content_commitment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(_pem()), private=False)

