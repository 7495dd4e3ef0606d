import time

import pytest

from onestack.services.identity.service.fernet import (
    BadToken,
    KeyRepository,
    Payload,
    TokenFormatter,
    new_audit_id,
)


def payload(**kw) -> Payload:
    now = time.time()
    base = dict(user_id="0123456789abcdef0123456789abcdef", methods=("password",), expires_at=now + 3600,
                issued_at=now, audit_ids=(new_audit_id(),), project_id="default")
    return Payload(**{**base, **kw})


def test_round_trip_keeps_every_field(tmp_path):
    repo = KeyRepository(tmp_path / "keys")
    repo.initialise()
    fmt = TokenFormatter(repo)
    p = payload(methods=("password", "token"), system=None, app_cred_id="f" * 32)
    assert fmt.decode(fmt.encode(p)) == p


def test_tokens_are_short_and_unpadded(tmp_path):
    repo = KeyRepository(tmp_path / "keys")
    repo.initialise()
    token = TokenFormatter(repo).encode(payload())
    assert "=" not in token
    assert len(token) < 255


def test_rotation_keeps_old_tokens_valid_until_key_leaves(tmp_path):
    repo = KeyRepository(tmp_path / "keys")
    repo.initialise()
    fmt = TokenFormatter(repo)
    p = payload()
    old = fmt.encode(p)
    repo.rotate()
    assert fmt.decode(old) == p
    assert fmt.decode(fmt.encode(p)) == p
    repo.rotate()
    repo.rotate()
    with pytest.raises(BadToken):
        fmt.decode(old)


def test_key_files_are_private(tmp_path):
    repo = KeyRepository(tmp_path / "keys")
    repo.initialise()
    for f in (tmp_path / "keys").iterdir():
        assert f.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("junk", ["", "abc", "gAAAAA" + "x" * 100, "é" * 10, "a" * 5000])
def test_garbage_is_refused(tmp_path, junk):
    repo = KeyRepository(tmp_path / "keys")
    repo.initialise()
    with pytest.raises(BadToken):
        TokenFormatter(repo).decode(junk)


def test_token_from_another_cloud_is_refused(tmp_path):
    mine, theirs = KeyRepository(tmp_path / "a"), KeyRepository(tmp_path / "b")
    mine.initialise()
    theirs.initialise()
    with pytest.raises(BadToken):
        TokenFormatter(mine).decode(TokenFormatter(theirs).encode(payload()))
