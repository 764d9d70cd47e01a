"""Labels in French: FollowTheMoney's translations plus Recoupe's own catalogue."""

from __future__ import annotations

import pytest
import yaml
from followthemoney.util import get_locale

from recoupe.errors import ConfigError
from recoupe.ontology import model
from recoupe.ontology.labels import catalogue, check_catalogue, labels
from recoupe.ontology.model import SCHEMATA_DIR


def _recoupe_properties() -> set[str]:
    """``Schema.property`` of every property Recoupe's YAML defines, reverses included."""
    built = model()
    found: set[str] = set()
    for path in sorted(SCHEMATA_DIR.glob("*.yaml")):
        for name, spec in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            for prop_name, prop in (spec.get("properties") or {}).items():
                found.add(f"{name}.{prop_name}")
                if "reverse" in prop:
                    reverse = built.get(name).properties[prop_name].reverse
                    found.add(f"{reverse.schema.name}.{reverse.name}")
    return found


def test_the_french_catalogue_names_real_schemata_and_properties() -> None:
    assert check_catalogue("fr") == []


def test_every_recoupe_schema_and_property_has_a_french_label() -> None:
    french = catalogue("fr")
    files = SCHEMATA_DIR.glob("*.yaml")
    ours = {name for path in files for name in yaml.safe_load(path.read_text(encoding="utf-8"))}
    assert ours - set(french["schemata"]) == set()
    missing = _recoupe_properties() - set(french["properties"])
    assert missing == set(), f"no French label in ontology/labels/fr.yaml for {sorted(missing)}"


def test_french_labels_join_ftm_translations_and_ours() -> None:
    fr = labels("fr")
    assert fr["lang"] == "fr"
    assert fr["schemata"]["Person"] == {"label": "Personne", "plural": "Personnes"}
    assert fr["schemata"]["Phone"]["label"] == "Ligne téléphonique"
    assert fr["schemata"]["PhoneCall"]["edge"] == "a appelé"
    assert fr["properties"]["birthDate"] == "Date de naissance"  # FtM's catalogue
    assert fr["properties"]["phoneLines"] == "Lignes téléphoniques"  # ours, a reverse
    # One label per name, and where a schema means something else by it, the exception.
    assert fr["exceptions"]["Phone"]["number"] == "Numéro"
    assert fr["properties"]["number"] != "Numéro"
    assert fr["exceptions"]["Transmission"]["setting"] == "Lieu"
    assert "Case" not in fr["exceptions"] or "setting" not in fr["exceptions"]["Case"]


def test_english_is_the_schemata_own_language() -> None:
    en = labels("en")
    assert en["schemata"]["Person"]["label"] == "Person"
    assert en["properties"]["birthDate"] == "Birth date"
    assert en["schemata"]["Phone"]["label"] == "Phone line"


def test_labels_leave_the_model_language_as_it_was() -> None:
    before = str(get_locale())
    labels("fr")
    assert str(get_locale()) == before
    assert model().get("Person").label == "Person"


def test_an_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="lang 'de'"):
        labels("de")
