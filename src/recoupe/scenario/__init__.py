"""Synthetic investigation scenarios: realistic sources, their mappings and the truth.

``generate(out_dir, scale)`` writes a civil registry, a phone operator's subscribers,
cell towers and call records (``scale`` of them), bank accounts and transfers, a trade
register (cp1252) and passenger records, with the same people spelt differently from
one source to the next, a hidden cell with tell-tale patterns, a few bad rows, one
mapping file per dataset and ``truth.json`` to score what analysis finds.
"""

from recoupe.scenario.generator import ScenarioSummary, WrittenFile, generate

__all__ = ["ScenarioSummary", "WrittenFile", "generate"]
