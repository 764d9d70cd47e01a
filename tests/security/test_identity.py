"""Accounts, argon2id passwords, lock-out, API tokens: expiry, scopes, revocation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from recoupe.errors import ConfigError, NotFound
from recoupe.security import identity
from recoupe.security.identity import Identities
from recoupe.security.markings import FRENCH


@pytest.fixture
def ids(tmp_path: Path) -> Identities:
    found = Identities(tmp_path / "security.db", FRENCH)
    found.add_user(
        "alice", roles=["analyst"], clearance="S", compartments=["orion"], password="x" * 12
    )
    return found


def test_accounts_are_checked(ids: Identities) -> None:
    user = ids.user("alice")
    assert user.clearance == "S"
    assert user.compartments == {"ORION"}
    reader = ids.reader(user)
    assert reader.can_see("t", "S//ORION").allowed
    assert not reader.can_see("t", "TS").allowed
    with pytest.raises(ConfigError, match="exists already"):
        ids.add_user("alice", roles=["viewer"], clearance="NP")
    with pytest.raises(ConfigError, match="'Confidentiel'"):
        ids.add_user("carl", roles=["viewer"], clearance="Confidentiel")
    with pytest.raises(ConfigError, match="--role 'boss'"):
        ids.add_user("carl", roles=["boss"], clearance="NP")
    with pytest.raises(ConfigError, match="login"):
        ids.add_user("Carl Smith", roles=["viewer"], clearance="NP")


def test_passwords_are_argon2id_and_brute_force_locks_out(ids: Identities, tmp_path: Path) -> None:
    stored = sqlite3.connect(tmp_path / "security.db").execute(
        "SELECT password_hash FROM users WHERE login = 'alice'"
    )
    assert stored.fetchone()[0].startswith("$argon2id$")
    assert ids.check_password("alice", "x" * 12) is not None
    assert ids.check_password("alice", "wrong") is None
    assert ids.check_password("nobody", "wrong") is None
    for _ in range(identity.MAX_FAILURES):
        assert ids.check_password("alice", "guess") is None
    # locked: even the right password is refused for a while
    assert ids.check_password("alice", "x" * 12) is None


def test_tokens_expire_are_scoped_and_revocable(ids: Identities, tmp_path: Path) -> None:
    token = ids.issue_token("alice", scopes=["read"])
    principal = ids.authenticate_token(token)
    assert principal is not None
    assert principal.user.login == "alice"
    assert principal.scopes == {"read"}
    assert ids.authenticate_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert ids.authenticate_token("rcp_nope") is None
    # the database keeps no token, only a hash of its secret
    raw = (tmp_path / "security.db").read_bytes()
    assert token.split("_", 2)[2].encode() not in raw
    token_id = token.split("_")[1]
    ids.revoke_token(token_id)
    assert ids.authenticate_token(token) is None  # no replay after revocation
    with pytest.raises(NotFound):
        ids.revoke_token(token_id)
    other = ids.issue_token("alice", days=1)
    sqlite3.connect(tmp_path / "security.db", isolation_level=None).execute(
        "UPDATE tokens SET expires_at = '2000-01-01T00:00:00+00:00'"
    )
    assert ids.authenticate_token(other) is None
    viewer_token = ids.issue_token("alice")
    ids.disable("alice")
    assert ids.authenticate_token(viewer_token) is None


def test_a_role_bounds_the_scopes_of_its_tokens(ids: Identities) -> None:
    ids.add_user("vera", roles=["viewer"], clearance="NP")
    principal = ids.authenticate_token(ids.issue_token("vera"))
    assert principal is not None
    assert principal.scopes == {"read"}
