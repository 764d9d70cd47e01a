"""Name and identifier keys: spellings, scripts and formats meet."""

from __future__ import annotations

import pytest

from recoupe.search.keys import fold, identifier_forms, name_keys, skeleton


@pytest.mark.parametrize(
    "names",
    [
        ("Oussama ben Laden", "Usama bin Ladin", "أسامة بن لادن", "Osama bin Laden"),
        ("Muhammad", "Mohammed", "محمد", "Мухаммад"),
        ("Souad Mansouri", "سعاد منصوري"),
        ("Omar", "عمر"),
    ],
)
def test_spellings_and_scripts_share_skeletons(names: tuple[str, ...]) -> None:
    keys = {tuple(name_keys([n])[1]) for n in names}
    assert len(keys) == 1, keys


def test_fold_ignores_accents_case_and_script() -> None:
    assert fold("Benoît PIERRE") == ("benoit", "pierre")
    assert fold("Σωκράτης") == ("sokrates",)
    assert fold("  ") == ()


def test_skeleton_keeps_initial_h_and_distinguishes_names() -> None:
    assert skeleton("haddad") == "hd"
    assert skeleton("chartier") != skeleton("charrier")


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("(0)6-12-34-56-78", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("FR76 3000 4017 8413 5316 6832 476", "FR7630004017841353166832476"),
        ("A.Dupont@Mail.fr", "a.dupont@mail.fr"),
        ("21 ID 70383", "21ID70383"),
    ],
)
def test_identifier_forms(query: str, form: str) -> None:
    assert form in identifier_forms(query)
