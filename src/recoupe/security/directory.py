"""Password checks against an LDAP directory (OpenLDAP, 389-DS, Active Directory...).

The directory answers one question only: does this password belong to this login? The
account itself stays local: an administrator creates it in ``security.db``
(``recoupe users add --ldap``) with its roles, clearance and compartments, and those never
come from the directory. A person the directory knows but who has no local account cannot
log in, and disabling the local account shuts them out whatever the directory says.

:class:`LdapDirectory` performs a simple bind as the person's DN, built from the
``RECOUPE_LDAP_USER_DN`` template (``uid={login},ou=people,dc=example,dc=org``) with the
login escaped so that it cannot add or change a component of the DN. An empty password is
refused before any connection: LDAP takes a DN with no password for an anonymous
"unauthenticated bind", which many servers accept. Use ``ldaps://`` or ``start_tls`` so
that passwords do not cross the network in clear; the server certificate is then checked
against ``ca_file`` (or the system's authorities) and the host name.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ldap3 import NONE, SIMPLE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import escape_rdn

from recoupe.errors import ConfigError, RecoupeError

LOGIN = "{login}"

# Bind results that mean "not this password for this login" rather than a broken server:
# invalidCredentials, inappropriateAuthentication, noSuchObject, invalidDNSyntax and
# insufficientAccessRights (RFC 4511, appendix A). Any other result is an error to report.
REFUSED = frozenset({49, 48, 32, 34, 50})


class Directory(Protocol):
    """Where the passwords of directory accounts are checked."""

    def verify(self, login: str, password: str) -> bool:
        """True only when the directory accepts ``password`` for ``login``."""
        ...


class DirectoryUnavailable(RecoupeError):
    """The directory cannot be reached, or does not answer a password check."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"LDAP directory {url}: {reason}")


class LdapDirectory:
    """A directory checked by a simple bind as ``user_dn`` with the login filled in."""

    def __init__(
        self,
        url: str,
        user_dn: str,
        *,
        timeout: float = 5.0,
        start_tls: bool = False,
        ca_file: Path | None = None,
    ) -> None:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("ldap", "ldaps"):
            raise ConfigError(f"RECOUPE_LDAP_URL={url!r}: expected ldap://HOST[:PORT] or ldaps://")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"RECOUPE_LDAP_URL={url!r}: {exc}") from exc
        if not parts.hostname or parts.username is not None or parts.path not in ("", "/"):
            raise ConfigError(f"RECOUPE_LDAP_URL={url!r}: expected ldap://HOST[:PORT] or ldaps://")
        if LOGIN not in user_dn:
            raise ConfigError(
                f"RECOUPE_LDAP_USER_DN={user_dn!r}: no {LOGIN} to put the login in, "
                "e.g. uid={login},ou=people,dc=example,dc=org"
            )
        if start_tls and scheme == "ldaps":
            raise ConfigError(f"{url}: already TLS (ldaps://); StartTLS is for ldap:// only")
        if timeout <= 0:
            raise ConfigError(f"LDAP timeout {timeout}: expected a number of seconds above 0")
        if ca_file is not None and not ca_file.is_file():
            raise ConfigError(f"{ca_file}: no such CA certificate file")
        self.url = url
        self.user_dn = user_dn
        self.timeout = timeout
        self.start_tls = start_tls
        tls: Any = None
        if scheme == "ldaps" or start_tls:
            tls = Tls(
                validate=ssl.CERT_REQUIRED,
                ca_certs_file=None if ca_file is None else str(ca_file),
            )
        self._server: Any = Server(
            parts.hostname,
            port=port,
            use_ssl=scheme == "ldaps",
            tls=tls,
            get_info=NONE,
            connect_timeout=timeout,
        )

    def dn(self, login: str) -> str:
        """The DN to bind as: the template with ``login`` escaped as an RDN value."""
        return self.user_dn.replace(LOGIN, escape_rdn(login))

    def verify(self, login: str, password: str) -> bool:
        if login == "" or password == "":
            return False  # an empty password would be an anonymous bind, accepted by many
        connection: Any = Connection(
            self._server,
            user=self.dn(login),
            password=password,
            authentication=SIMPLE,
            receive_timeout=math.ceil(self.timeout),  # whole seconds: ldap3 packs an int
            auto_referrals=False,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            connection.open()
            if self.start_tls and not connection.start_tls():
                raise DirectoryUnavailable(self.url, f"StartTLS refused: {_said(connection)}")
            if connection.bind():
                return True
            if (connection.result or {}).get("result") in REFUSED:
                return False
            raise DirectoryUnavailable(self.url, f"bind failed: {_said(connection)}")
        except (LDAPException, OSError) as exc:
            raise DirectoryUnavailable(self.url, f"cannot be reached ({exc})") from exc
        finally:
            _release(connection)


def _release(connection: Any) -> None:
    """Unbind, and close the socket ldap3 leaves open when connecting fails."""
    with contextlib.suppress(LDAPException, OSError):  # the server is gone already
        connection.unbind()
    leftover = connection.socket
    if leftover is not None:
        leftover.close()


def _said(connection: Any) -> str:
    result = connection.result or {}
    text = f"{result.get('description', 'no answer')} ({result.get('result', '?')})"
    message = result.get("message")
    return f"{text}: {message}" if message else text
