"""The declarations of what is located where are checked against the model."""

from __future__ import annotations

from typing import Any

import pytest

from recoupe.errors import OntologyError
from recoupe.ontology import model
from recoupe.ontology.located import (
    AddressLink,
    Coordinates,
    Holding,
    Presence,
    check,
    located,
)


def test_default_declarations_fit_the_model() -> None:
    loc = located(model())
    assert Presence("PhoneCall", "callerPhone", "callerCell", ("date", "startDate")) in (
        loc.presences
    )
    schemata = {c.schema for c in loc.coordinates}
    assert {"Address", "CellTower"} <= schemata
    # declared on Thing, spread over the concrete schemata extending it
    linked = {a.schema for a in loc.addresses}
    assert {"Person", "Company", "CellTower"} <= linked and "Thing" not in linked
    assert Holding("Phone", "owner") in loc.holdings
    assert "owner" in loc.holding_props


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coordinates": [Coordinates("Tower")]}, r"unknown schema 'Tower'"),
        ({"coordinates": [Coordinates("CellTower", "lat")]}, r"CellTower has no property 'lat'"),
        ({"coordinates": [Coordinates("Person", "name")]}, r"Person:name is of type name"),
        ({"addresses": [AddressLink("Thing", "address")]}, r"is of type address, not entity"),
        (
            {"presences": [Presence("PhoneCall", "callerPhone", "callerCell", ("when",))]},
            r"PhoneCall has no property 'when'",
        ),
        (
            {"presences": [Presence("PhoneCall", "callerPhone", "callerCell", ())]},
            r"at least one time",
        ),
        (
            {"presences": [Presence("PhoneCall", "callerPhone", "callerNumber", ("date",))]},
            r"callerNumber is of type phone, not entity",
        ),
        (
            {"presences": [Presence("Payment", "payer", "payerAccount", ("date",))]},
            r"BankAccount entities carry no coordinates",
        ),
        ({"holdings": [Holding("Phone", "subscriber")]}, r"Phone has no property 'subscriber'"),
        ({"holdings": [Holding("Mobile", "owner")]}, r"unknown schema 'Mobile'"),
    ],
)
def test_wrong_declarations_are_ontology_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(OntologyError, match=message):
        check(model(), **kwargs)
