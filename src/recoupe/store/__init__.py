"""The statement store: one row per property value, with its provenance.

:mod:`recoupe.store.base` defines the interface and its records; :mod:`recoupe.store.duckdb`
is the embedded default backend. Open a store with :func:`open_store`.
"""

from recoupe.store.base import Store
from recoupe.store.duckdb import DuckDBStore, open_store

__all__ = ["DuckDBStore", "Store", "open_store"]
