"""A private OpenLDAP server for the tests: Debian's slapd, on a free port of 127.0.0.1.

The server runs in the foreground as a child of the test process, from a ``slapd.conf`` and
an MDB database in a temporary folder, with the entries loaded by ``slapadd`` beforehand.
Without slapd the tests that need it are skipped, except on CI (``CI=true``) where a
missing server is a failure: the directory tests must not disappear silently.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest

SUFFIX = "dc=recoupe,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root of the test directory"
PEOPLE = f"ou=people,{SUFFIX}"
PASSWORDS = {"claire": "claire's long passphrase", "didier": "Été à Saint-Étienne, 2024"}
# An entry one level below ou=people: what a login such as "root,ou=admins" would reach
# if it were put into the DN template without escaping.
NESTED_DN = f"uid=root,ou=admins,{PEOPLE}"
NESTED_PASSWORD = "the nested account's password"
SCHEMAS = ("core", "cosine", "inetorgperson")
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Slapd:
    """A running test directory.

    ``url`` is ``ldap://127.0.0.1:PORT``, ``user_dn`` the DN template of its people,
    ``passwords`` login -> password for them; ``nested_dn`` and ``nested_password`` name
    an entry below ``ou=people`` that only an injected login could reach.
    """

    url: str
    user_dn: str
    passwords: Mapping[str, str]
    nested_dn: str
    nested_password: str


def ssha(password: str) -> str:
    """``{SSHA}`` userPassword value, as ``slappasswd`` writes it."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _ldif() -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: recoupe\n"
        "o: Recoupe tests\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=admins,{PEOPLE}\nobjectClass: organizationalUnit\nou: admins\n",
        f"dn: {NESTED_DN}\nobjectClass: inetOrgPerson\nuid: root\ncn: root\nsn: root\n"
        f"userPassword: {ssha(NESTED_PASSWORD)}\n",
    ]
    for login, password in PASSWORDS.items():
        entries.append(
            f"dn: uid={login},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {login}\n"
            f"cn: {login.title()}\nsn: {login.title()}\nuserPassword: {ssha(password)}\n"
        )
    return "\n".join(entries)


def _config(folder: Path) -> str:
    schemas = "".join(f"include /etc/ldap/schema/{name}.schema\n" for name in SCHEMAS)
    return (
        f"{schemas}"
        f"pidfile {folder / 'slapd.pid'}\n"
        f"argsfile {folder / 'slapd.args'}\n"
        "modulepath /usr/lib/ldap\n"
        "moduleload back_mdb\n"
        "database mdb\n"
        f'suffix "{SUFFIX}"\n'
        f'rootdn "{ROOT_DN}"\n'
        f"rootpw {ssha(ROOT_PASSWORD)}\n"
        f"directory {folder / 'db'}\n"
        "maxsize 10485760\n"
        "access to attrs=userPassword by anonymous auth by self write by * none\n"
        "access to * by * read\n"
    )


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    path = Path("/usr/sbin") / name
    return str(path) if os.access(path, os.X_OK) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _start(slapd: str, conf: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """slapd on a free port once it accepts connections; a few tries if a port is taken."""
    for _ in range(3):
        port = _free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [slapd, "-d", "0", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(port):
                return process, port
            time.sleep(0.02)
        _stop(process)
    pytest.fail(f"slapd did not start; its log:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A private slapd with ``ou=people`` holding claire and didier, for the session."""
    server, loader = _program("slapd"), _program("slapadd")
    if server is None or loader is None:
        message = "slapd is not installed (Debian: apt-get install slapd ldap-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("slapd")
    (folder / "db").mkdir()
    conf = folder / "slapd.conf"
    conf.write_text(_config(folder), encoding="utf-8")
    data = folder / "people.ldif"
    data.write_text(_ldif(), encoding="utf-8")
    loaded = subprocess.run(
        [loader, "-q", "-f", str(conf), "-l", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if loaded.returncode != 0:
        pytest.fail(f"slapadd failed:\n{loaded.stdout}{loaded.stderr}")
    process, port = _start(server, conf, folder / "slapd.log")
    try:
        yield Slapd(
            url=f"ldap://127.0.0.1:{port}",
            user_dn=f"uid={{login}},{PEOPLE}",
            passwords=MappingProxyType(dict(PASSWORDS)),
            nested_dn=NESTED_DN,
            nested_password=NESTED_PASSWORD,
        )
    finally:
        _stop(process)
