"""One SQLite file shared by threads and processes: ``WORKSPACE/security.db``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SQLiteFile:
    """A connection per thread (SQLite connections are not shared across threads) and
    write transactions that take the file's lock up front."""

    def __init__(self, path: Path, ddl: str) -> None:
        self.path = path
        self._local = threading.local()
        self._tx_open().executescript(ddl)

    def _tx_open(self) -> sqlite3.Connection:
        """This thread's connection, in autocommit mode outside :meth:`_tx`."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            self._local.con = con
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: one writer at a time, across threads and processes."""
        con = self._tx_open()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
