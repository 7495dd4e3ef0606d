"""The cloud's own CA and server certificate (onestack.tls): made once, kept, renewed only when they must be,
and what a crash midway leaves is repaired at the next start."""

from __future__ import annotations

import os
from pathlib import Path

import certifi
import pytest
from cryptography import x509

from onestack import bootstrap, tls
from onestack.config import Settings, TLSSettings


def settings(tmp_path: Path, **tls_options) -> Settings:
    return Settings(data_dir=tmp_path, bind="0.0.0.0:8443", public_url="https://cloud.example:8443",
                    tls=TLSSettings(enabled=True, **tls_options))


def contents(tmp_path: Path) -> dict[str, bytes]:
    return {name: (tmp_path / "tls" / name).read_bytes() for name in ("ca.pem", "ca.key", "server.pem", "server.key")}


def sans(path: Path) -> list[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return [str(name.value) for name in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value]


def test_made_once_and_kept(tmp_path):
    found = tls.ensure(settings(tmp_path))
    assert found == tls.Files(tmp_path / "tls/server.pem", tmp_path / "tls/server.key", tmp_path / "tls/ca.pem")
    first = contents(tmp_path)
    tls.ensure(settings(tmp_path))
    assert contents(tmp_path) == first
    names = sans(found.cert)
    assert {"127.0.0.1", "::1", "localhost", "cloud.example"} <= set(names) and "0.0.0.0" not in names


def test_a_server_key_without_its_certificate_is_replaced_under_the_same_ca(tmp_path):
    tls.ensure(settings(tmp_path))
    first = contents(tmp_path)
    (tmp_path / "tls/server.pem").unlink()  # killed between writing the key and the certificate
    tls.ensure(settings(tmp_path))
    again = contents(tmp_path)
    assert again["ca.pem"] == first["ca.pem"] and again["server.key"] != first["server.key"]
    ca = x509.load_pem_x509_certificate(again["ca.pem"])
    x509.load_pem_x509_certificate(again["server.pem"]).verify_directly_issued_by(ca)


def test_a_lost_ca_key_makes_a_new_ca_and_a_server_certificate_it_signs(tmp_path):
    tls.ensure(settings(tmp_path))
    first = contents(tmp_path)
    (tmp_path / "tls/ca.key").write_text("not a key")
    tls.ensure(settings(tmp_path))
    again = contents(tmp_path)
    assert again["ca.pem"] != first["ca.pem"] and again["server.pem"] != first["server.pem"]
    ca = x509.load_pem_x509_certificate(again["ca.pem"])
    x509.load_pem_x509_certificate(again["server.pem"]).verify_directly_issued_by(ca)


def test_a_certificate_near_its_end_is_renewed(tmp_path, monkeypatch):
    monkeypatch.setattr(tls, "SERVER_DAYS", 10)
    tls.ensure(settings(tmp_path))
    first = contents(tmp_path)
    monkeypatch.setattr(tls, "SERVER_DAYS", 397)
    tls.ensure(settings(tmp_path))
    assert contents(tmp_path)["server.pem"] != first["server.pem"]
    assert contents(tmp_path)["ca.pem"] == first["ca.pem"]


def test_a_new_name_renews_the_server_certificate(tmp_path):
    tls.ensure(settings(tmp_path))
    found = tls.ensure(settings(tmp_path, names=["api.cloud.example", "192.0.2.7"]))
    assert {"api.cloud.example", "192.0.2.7"} <= set(sans(found.cert))


def test_an_operators_files_are_served_as_given(tmp_path):
    made = tls.ensure(settings(tmp_path / "theirs"))
    given = settings(tmp_path / "ours", cert_file=str(made.cert), key_file=str(made.key), ca_file=str(made.ca))
    assert tls.ensure(given) == made
    assert not (tmp_path / "ours" / "tls").exists()
    assert bootstrap.clouds(given, {"demo_password": "d", "admin_password": "a"})["onestack"]["cacert"] == str(made.ca)
    without_ca = settings(tmp_path / "ours", cert_file=str(made.cert), key_file=str(made.key))
    assert tls.ca_path(without_ca) is None
    assert "cacert" not in bootstrap.clouds(without_ca, {"demo_password": "d", "admin_password": "a"})["onestack"]
    with pytest.raises(FileNotFoundError):
        tls.ensure(settings(tmp_path / "ours", cert_file=str(tmp_path / "missing.pem")))


def test_no_tls_no_cacert(tmp_path):
    plain = Settings(data_dir=tmp_path)
    assert plain.base_url.startswith("http://") and tls.ca_path(plain) is None
    assert "cacert" not in bootstrap.clouds(plain, {"demo_password": "d", "admin_password": "a"})["onestack"]
    assert "OS_CACERT" not in bootstrap.openrc(bootstrap.clouds(plain, {"demo_password": "d",
                                                                        "admin_password": "a"})["onestack"])


def test_the_process_trusts_the_public_cas_and_the_clouds(tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    given = settings(tmp_path)
    found = tls.ensure(given)
    trust = tls.trust_in_process(given, found)
    assert os.environ["SSL_CERT_FILE"] == str(trust)
    text = trust.read_text()
    assert text.startswith(Path(certifi.where()).read_text()[:200]) and text.endswith(found.ca.read_text())
    tls.trust_in_process(given, found)  # a second start does not add the CA twice
    assert trust.read_text().count(found.ca.read_text()) == 1
