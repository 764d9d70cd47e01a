"""Recoupe: an open, sovereign data fusion and investigation platform."""

__version__ = "0.1.0"
