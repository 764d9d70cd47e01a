"""Markings, their order and combination, and the reader's access decisions."""

from __future__ import annotations

import pytest

from recoupe.errors import ConfigError
from recoupe.security.markings import FRENCH, Scale
from recoupe.security.reader import Reader


def test_french_levels_parse_by_code_or_full_name() -> None:
    assert str(FRENCH.parse("très secret")) == "TS"
    assert str(FRENCH.parse("TRES SECRET")) == "TS"
    assert str(FRENCH.parse("Diffusion Restreinte")) == "DR"
    assert str(FRENCH.parse("s//orion, humint")) == "S//HUMINT/ORION"
    assert FRENCH.parse("S//ORION").banner == "SECRET // ORION"
    assert [lv.code for lv in FRENCH.levels] == ["NP", "DR", "S", "TS"]
    with pytest.raises(ConfigError, match="'Confidentiel'"):
        FRENCH.parse("Confidentiel")
    with pytest.raises(ConfigError, match="compartment"):
        FRENCH.parse("S//bad name!")


def test_combined_marking_is_the_highest_level_and_every_compartment() -> None:
    combined = FRENCH.combine(
        [FRENCH.parse("DR//FININT"), FRENCH.parse("S"), FRENCH.parse("NP//ORION")]
    )
    assert str(combined) == "S//FININT/ORION"
    assert str(FRENCH.combine([])) == "NP"


def test_a_configured_scale_is_checked() -> None:
    scale = Scale([("U", "Unclassified"), ("C", "Confidential")])
    assert scale.parse("confidential").rank == 1
    with pytest.raises(ConfigError, match="twice"):
        Scale([("A", "Alpha"), ("a", "Other")])


def test_reader_decisions_carry_reasons() -> None:
    bob = Reader("bob", clearance=1, compartments=frozenset({"FININT"}))
    assert bob.can_see("bank", "DR//FININT").allowed
    above = bob.can_see("telecom", "S")
    assert not above.allowed
    assert "Secret" in above.reason
    compartment = bob.can_see("humint", "NP//ORION")
    assert not compartment.allowed
    assert "ORION" in compartment.reason
    assert bob.can_see("open", None).allowed  # unmarked reads as the lowest level
    unreadable = bob.can_see("odd", "Confidentiel Défense")
    assert not unreadable.allowed  # fails closed
    assert Reader.system().can_see("odd", "Confidentiel Défense").allowed
