"""Identities and access decisions."""
