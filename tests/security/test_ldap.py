"""Password checks against a real OpenLDAP server (see ``slapd.py``)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import SIMPLE, Connection, Server

from recoupe.errors import ConfigError
from recoupe.security.directory import Directory, DirectoryUnavailable, LdapDirectory
from tests.security.slapd import Slapd


@pytest.fixture
def directory(slapd: Slapd) -> LdapDirectory:
    return LdapDirectory(slapd.url, slapd.user_dn, timeout=2.0)


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A local port that is bound, so nobody else takes it, but refuses connections."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"ldap://127.0.0.1:{held.getsockname()[1]}"


def test_is_a_directory(directory: LdapDirectory) -> None:
    checker: Directory = directory
    assert checker is directory


@pytest.mark.parametrize("login", ["claire", "didier"])
def test_right_password(directory: LdapDirectory, slapd: Slapd, login: str) -> None:
    assert directory.verify(login, slapd.passwords[login]) is True


def test_wrong_password(directory: LdapDirectory, slapd: Slapd) -> None:
    assert directory.verify("claire", slapd.passwords["didier"]) is False
    assert directory.verify("claire", slapd.passwords["claire"] + " ") is False


def test_password_of_another_person(directory: LdapDirectory, slapd: Slapd) -> None:
    assert directory.verify("didier", slapd.passwords["claire"]) is False


def test_unknown_user(directory: LdapDirectory, slapd: Slapd) -> None:
    assert directory.verify("zoé", slapd.passwords["claire"]) is False


def test_empty_password_is_refused(directory: LdapDirectory) -> None:
    assert directory.verify("claire", "") is False
    assert directory.verify("", "anything") is False


def test_empty_password_does_not_connect(closed_url: str) -> None:
    closed = LdapDirectory(closed_url, "uid={login},ou=people,dc=recoupe,dc=test")
    assert closed.verify("claire", "") is False  # no connection, so no DirectoryUnavailable
    with pytest.raises(DirectoryUnavailable):
        closed.verify("claire", "not empty")


def test_login_cannot_change_the_dn(directory: LdapDirectory, slapd: Slapd) -> None:
    injected = "root,ou=admins"
    # Pasted into the template as is, the login would name a real entry below ou=people ...
    assert slapd.user_dn.replace("{login}", injected) == slapd.nested_dn
    raw = Connection(
        Server(slapd.url),
        user=slapd.nested_dn,
        password=slapd.nested_password,
        authentication=SIMPLE,
    )
    assert raw.bind() is True
    raw.unbind()
    # ... escaped, it names no one.
    assert directory.dn(injected) == r"uid=root\,ou\=admins,ou=people,dc=recoupe,dc=test"
    assert directory.verify(injected, slapd.nested_password) is False
    assert directory.verify("claire+cn=x", slapd.passwords["claire"]) is False
    assert directory.verify("claire\\", slapd.passwords["claire"]) is False


def test_unreachable_server(closed_url: str) -> None:
    closed = LdapDirectory(closed_url, "uid={login},ou=people,dc=recoupe,dc=test", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match=closed_url) as caught:
        closed.verify("claire", "a password")
    assert caught.value.url == closed_url
    assert time.monotonic() - started < 1.0


def test_silent_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections complete, but nothing ever answers
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        mute = LdapDirectory(url, "uid={login},ou=people,dc=recoupe,dc=test", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match=url):
            mute.verify("claire", "a password")
        assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:389", "127.0.0.1:389", "ldapi:///run/slapd.sock", "ldap://"]
)
def test_bad_url(url: str) -> None:
    with pytest.raises(ConfigError, match="RECOUPE_LDAP_URL"):
        LdapDirectory(url, "uid={login},ou=people,dc=recoupe,dc=test")


def test_template_without_login() -> None:
    with pytest.raises(ConfigError, match="RECOUPE_LDAP_USER_DN"):
        LdapDirectory("ldap://127.0.0.1", "uid=claire,ou=people,dc=recoupe,dc=test")


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="StartTLS"):
        LdapDirectory("ldaps://127.0.0.1", "uid={login},dc=test", start_tls=True)
    with pytest.raises(ConfigError, match="CA certificate"):
        LdapDirectory("ldaps://127.0.0.1", "uid={login},dc=test", ca_file=tmp_path / "none.pem")
