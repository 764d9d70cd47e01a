"""Epidemic and hospital analytics: pure numerics, arrays in, arrays out (no I/O)."""
