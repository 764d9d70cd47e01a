"""The server's secret: it keys session identifiers and their CSRF tokens.

It comes from ``RECOUPE_SECRET`` or from ``WORKSPACE/secret.key`` (readable by its owner
only). The server refuses to start without one, with one too short to resist guessing, or
with a well-known placeholder. ``recoupe init`` and ``recoupe demo`` write a new random one.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from recoupe.config import make_workspace
from recoupe.errors import ConfigError

SECRET_FILE = "secret.key"  # noqa: S105 (a file name)
MIN_LENGTH = 32
PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "changethis", "default", "secret", "password", "recoupe", "test"}
)


def secret_file(workspace: Path) -> Path:
    return workspace / SECRET_FILE


def ensure_secret(workspace: Path) -> Path:
    """``WORKSPACE/secret.key``, written with a new random secret (mode 0600) if missing."""
    path = secret_file(workspace)
    make_workspace(workspace)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path


def load_secret(workspace: Path, env_secret: str | None) -> bytes:
    """The secret to key sessions with; a ConfigError naming what to fix otherwise."""
    if env_secret is not None:
        return _checked(env_secret, "RECOUPE_SECRET")
    path = secret_file(workspace)
    if not path.exists():
        raise ConfigError(
            f"{path}: no server secret; run `recoupe init` to make one or set RECOUPE_SECRET"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: readable by other users (mode {mode:o}); run `chmod 600 {path}`"
        )
    return _checked(path.read_text(encoding="utf-8"), str(path))


def exposed_workspace(workspace: Path) -> str | None:
    """A warning when other users may enter the workspace folder, or None."""
    mode = stat.S_IMODE(workspace.stat().st_mode)
    if not mode & 0o077:
        return None
    return (
        f"{workspace}: other users may enter the workspace folder (mode {mode:o}) and read "
        f"the data files without any marking or audit; run `chmod 700 {workspace}`"
    )


def _checked(value: str, where: str) -> bytes:
    text = value.strip()
    if text.lower() in PLACEHOLDERS or len(set(text)) <= 2:
        raise ConfigError(f"{where}: a placeholder, not a secret; use `openssl rand -hex 32`")
    if len(text) < MIN_LENGTH:
        raise ConfigError(
            f"{where}: {len(text)} characters; a secret needs at least {MIN_LENGTH} "
            "(`openssl rand -hex 32`)"
        )
    return text.encode("utf-8")
