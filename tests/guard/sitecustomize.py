"""A socket guard for test subprocesses: any connection off the machine is logged and refused.

Put this folder on ``PYTHONPATH`` and set ``RECOUPE_GUARD_LOG`` to a file: ``site`` imports
this module at interpreter start and installs an audit hook on the socket events. Loopback
addresses, ``localhost`` and local (Unix, netlink) sockets pass; any other target is
appended to the log as one JSON line (pid, event, target, the innermost frames) and the
call fails with :class:`OutboundRefused`, so nothing leaves. Each guarded interpreter also
appends its pid to ``RECOUPE_GUARD_LOG + ".armed"``, which shows the guard was loaded.

Without ``RECOUPE_GUARD_LOG`` the module does nothing. It is not a test module (pytest
does not collect it) and it is imported only by subprocesses that ask for it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import traceback
from typing import Any

LOG_VARIABLE = "RECOUPE_GUARD_LOG"
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
LOCAL_FAMILIES = frozenset(
    getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK") if hasattr(socket, name)
)


class OutboundRefused(ConnectionRefusedError):
    """A connection, datagram or name lookup aimed off the machine, stopped by the guard."""


def is_local_host(host: object) -> bool:
    """Whether ``host`` (a name or an address, str or bytes) stays on this machine."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return False  # a name other than localhost: resolving it may ask a DNS server
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def target_of(event: str, args: tuple[Any, ...]) -> tuple[bool, object]:
    """(whether the event stays local, its target) for a guarded socket event."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) in LOCAL_FAMILIES or address is None:
            return True, address  # a local socket, or a send on an already connected one
        host = address[0] if isinstance(address, tuple) and address else address
        return is_local_host(host), address
    if event == "socket.getaddrinfo":
        host, port = args[0], args[1]
        return host is None or is_local_host(host), (host, port)  # None: a passive bind
    if event == "socket.getnameinfo":
        address = args[0]
        host = address[0] if isinstance(address, tuple) and address else address
        return is_local_host(host), address
    return is_local_host(args[0]), args[0]  # gethostbyname(_ex), gethostbyaddr


GUARDED = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.getnameinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
    }
)


def install(log: str) -> None:
    """Arm the guard for this interpreter, logging refusals to ``log``."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in GUARDED:
            return
        local, target = target_of(event, args)
        if local:
            return
        frames = traceback.extract_stack(limit=12)[:-1]  # without the hook itself
        record = {
            "pid": os.getpid(),
            "argv": getattr(sys, "argv", [])[:3],
            "event": event,
            "target": repr(target),
            "stack": [f"{f.filename}:{f.lineno} {f.name}" for f in frames],
        }
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        raise OutboundRefused(f"recoupe test guard: {event} to {target!r} leaves the machine")

    sys.addaudithook(hook)
    with open(log + ".armed", "a", encoding="utf-8") as armed:
        armed.write(f"{os.getpid()}\n")


_log = os.environ.get(LOG_VARIABLE)
if _log:
    install(_log)
