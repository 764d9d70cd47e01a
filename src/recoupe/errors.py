"""Every error Recoupe raises on purpose, in one tree.

::

    RecoupeError                  base: a clear message for a person, never a traceback
    ├── ConfigError               bad settings, workspace or command-line parameter
    ├── OntologyError             a schema file or schema/property name is wrong
    ├── MappingError              a mapping file is wrong; names the file and the key
    ├── SourceError               a source cannot be read; names the path
    │   └── EncodingError         the bytes do not match the declared encoding
    ├── StoreError                the statement store refused an operation
    │   ├── NotFound              no such dataset, run or entity (for this reader)
    │   └── UnsupportedOperation  the backend does not offer this operation
    ├── ImportFailed              an import run failed and was rolled back
    ├── Unauthorized              no valid credential came with a request
    ├── Forbidden                 the credential's roles or scopes do not allow it
    └── ServerError               a Recoupe server could not be reached or refused a call

Adapters translate driver errors at the boundary (``raise ... from exc``) and keep the
context (file, key, row, SQL). The CLI prints ``str(error)``; the API maps the tree to
HTTP statuses in one place.
"""

from __future__ import annotations


class RecoupeError(Exception):
    """Base of every deliberate Recoupe error."""


class ConfigError(RecoupeError):
    """Invalid settings, workspace or parameter."""


class OntologyError(RecoupeError):
    """An invalid schema file, or an unknown schema or property."""


class MappingError(RecoupeError):
    """An invalid mapping: the message names the file and the key path."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = ", ".join(part for part in (file, f"key {key}" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


class SourceError(RecoupeError):
    """A source cannot be found or read: the message names the path."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class EncodingError(SourceError):
    """The bytes of a source do not decode with the declared encoding."""


class StoreError(RecoupeError):
    """The statement store refused an operation."""


class NotFound(StoreError):
    """No such dataset, run or entity, or not visible to this reader."""


class UnsupportedOperation(StoreError):
    """The backend does not offer this operation."""


class ImportFailed(RecoupeError):
    """An import run failed; the store was left as it was before the run."""


class Unauthorized(RecoupeError):
    """No valid credential (missing, unknown, expired or revoked token)."""


class Forbidden(RecoupeError):
    """The user is known but their roles or the token's scopes do not allow this."""


class TooManyAttempts(RecoupeError):
    """Too many failed logins from one address: wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class TooLarge(RecoupeError):
    """A request body larger than the server accepts."""


class JustificationRequired(RecoupeError):
    """This read is a checkpoint: say why (``X-Recoupe-Justification``, ``--justification``)."""


class ServerError(RecoupeError):
    """A Recoupe server could not be reached, or answered with an error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)
