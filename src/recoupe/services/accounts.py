"""The account store of a workspace, with the directory the settings name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recoupe.config import Settings, make_workspace
from recoupe.errors import ConfigError
from recoupe.security.identity import Identities

if TYPE_CHECKING:
    from recoupe.security.directory import Directory

SECURITY_DB = "security.db"


def directory_of(settings: Settings) -> Directory | None:
    """The LDAP directory of ``RECOUPE_LDAP_URL`` and ``RECOUPE_LDAP_USER_DN``, if set."""
    if settings.ldap_url is None:
        return None
    from recoupe.security.directory import LdapDirectory  # ldap3 only when it is used

    if settings.ldap_user_dn is None:
        raise ConfigError(
            "RECOUPE_LDAP_USER_DN: needed with RECOUPE_LDAP_URL, "
            "e.g. uid={login},ou=people,dc=example,dc=org"
        )
    return LdapDirectory(settings.ldap_url, settings.ldap_user_dn)


def open_identities(settings: Settings) -> Identities:
    workspace = settings.workspace
    make_workspace(workspace)
    return Identities(workspace / SECURITY_DB, settings.scale, directory_of(settings))
