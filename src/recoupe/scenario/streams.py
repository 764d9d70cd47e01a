"""Independent, reproducible random streams, one per named part of the scenario.

Each part draws from its own stream derived from the seed and its name, so changing how
one source is drawn leaves the others byte for byte the same.
"""

from __future__ import annotations

import random
import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """A numpy generator for column-wise draws."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def text_stream(seed: int, name: str) -> random.Random:
    """A fast scalar generator for per-name string work (spellings, typos)."""
    # reproducible synthetic data, never used for anything secret
    return random.Random(f"{seed}:{name}")  # noqa: S311
