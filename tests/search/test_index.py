"""Search over a real store and a real tantivy index."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from recoupe.errors import ConfigError, NotFound, OntologyError, StoreError
from recoupe.search.index import INDEX_VERSION, META
from recoupe.search.query import SearchQuery
from recoupe.security.reader import Decision, Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.services.search import SearchService
from recoupe.store import DuckDBStore
from tests.conftest import write

PEOPLE = """\
id,name,birth,phone,iban,email,passport,country
1,Oussama ben Laden,1957-03-10,+966 12 345 6789,,,,sa
2,Benoît Pierre,1986-03-26,06 33 40 67 63,FR76 3000 4017 8413 5316 6832 476,benoit.pierre@sfr.fr,,fr
3,Marie Curie,1867-11-07,,,,,fr
4,Jean Dupont,1980-01-02,+33 6 12 34 56 78,,,21ID70383,fr
"""
OTHER = """\
id,name,birth
a,Usama bin Ladin,1957
b,أسامة بن لادن,1957
c,Pierre Benoit,1990-01-01
"""
MAPPING = """\
{name}:
  queries:
    - csv_url: {file}
      countries: [fr]
      entities:
        person:
          schema: Person
          keys: [id]
          key_literal: {name}
          properties:
            name: {{column: name, required: true}}
            birthDate: {{column: birth}}
{extra}
"""
EXTRA = """\
            phone: {column: phone}
            email: {column: email}
            passportNumber: {column: passport}
            country: {column: country}
        account:
          schema: BankAccount
          keys: [iban]
          key_literal: iban
          properties:
            iban: {column: iban}
"""


@pytest.fixture
def indexed(store: DuckDBStore, tmp_path: Path) -> SearchService:
    write(tmp_path / "people.csv", PEOPLE)
    write(tmp_path / "other.csv", OTHER)
    write(tmp_path / "a.yml", MAPPING.format(name="registry", file="people.csv", extra=EXTRA))
    write(tmp_path / "b.yml", MAPPING.format(name="watchlist", file="other.csv", extra=""))
    ingest_mapping(store, tmp_path / "a.yml")
    service = SearchService(store.path)
    service.refresh(store)
    ingest_mapping(store, tmp_path / "b.yml")
    report = service.refresh(store)
    assert not report.full
    assert report.documents == 3
    return service


def names(service: SearchService, store: DuckDBStore, q: str, **kw: object) -> list[str]:
    result = service.search(store, Reader.system(), SearchQuery(q=q, **kw))  # type: ignore[arg-type]
    return [h.caption or "" for h in result.results]


@pytest.mark.parametrize("q", ["Oussama ben Laden", "Usama bin Ladin", "أسامة بن لادن"])
def test_names_meet_across_spellings_and_scripts(
    indexed: SearchService, store: DuckDBStore, q: str
) -> None:
    found = names(indexed, store, q)
    assert set(found[:3]) == {"Oussama ben Laden", "Usama bin Ladin", "أسامة بن لادن"}


def test_accents_and_case_never_matter(indexed: SearchService, store: DuckDBStore) -> None:
    assert set(names(indexed, store, "BENOIT pierre")[:2]) == {"Benoît Pierre", "Pierre Benoit"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("06 12 34 56 78", "Jean Dupont"),
        ("0033612345678", "Jean Dupont"),
        ("FR7630004017841353166832476", "FR7630004017841353166832476"),
        ("fr76 3000 4017 8413 5316 6832 476", "FR7630004017841353166832476"),
        ("BENOIT.PIERRE@SFR.FR", "Benoît Pierre"),
        ("21 ID 70383", "Jean Dupont"),
    ],
)
def test_identifiers_in_any_format(
    indexed: SearchService, store: DuckDBStore, q: str, expected: str
) -> None:
    assert names(indexed, store, q)[0].replace(" ", "") == expected.replace(" ", "")


def test_phrase_prefix_and_fuzzy(indexed: SearchService, store: DuckDBStore) -> None:
    assert names(indexed, store, '"marie curie"') == ["Marie Curie"]
    assert names(indexed, store, '"curie marie"') == []
    assert names(indexed, store, "dupo*") == ["Jean Dupont"]
    assert names(indexed, store, "dupomt") == ["Jean Dupont"]
    assert names(indexed, store, "dupomt", fuzzy=False) == []
    assert names(indexed, store, "dpuont~2", fuzzy=False) == ["Jean Dupont"]


def test_filters_facets_paging_and_highlights(indexed: SearchService, store: DuckDBStore) -> None:
    reader = Reader.system()
    result = indexed.search(store, reader, SearchQuery(q="laden", datasets=("watchlist",)))
    assert {h.caption for h in result.results} == {"Usama bin Ladin", "أسامة بن لادن"}
    assert {f["value"]: f["count"] for f in result.facets["dataset"]} == {"watchlist": 2}
    result = indexed.search(store, reader, SearchQuery(q="", schemata=("LegalEntity",)))
    assert result.total == 7
    assert {f["value"] for f in result.facets["schema"]} == {"Person"}
    result = indexed.search(store, reader, SearchQuery(q="", countries=("sa",)))
    assert [h.caption for h in result.results] == ["Oussama ben Laden"]
    born = SearchQuery(q="", date_from=date(1950, 1, 1), date_to=date(1960, 12, 31))
    assert {h.caption for h in indexed.search(store, reader, born).results} == {
        "Oussama ben Laden",
        "Usama bin Ladin",
        "أسامة بن لادن",
    }
    pages = [
        indexed.search(store, reader, SearchQuery(q="", limit=3, offset=o, facets=False))
        for o in (0, 3, 6)
    ]
    ids = [h.id for page in pages for h in page.results]
    assert len(ids) == len(set(ids)) == 8
    hit = indexed.search(store, reader, SearchQuery(q="Usama bin Ladin")).results[0]
    assert any("<mark>" in h for h in hit.highlights)


def test_reader_sees_only_visible_datasets(indexed: SearchService, store: DuckDBStore) -> None:
    class Analyst(Reader):
        def can_see(self, dataset: str, marking: str | None) -> Decision:
            return Decision(dataset == "registry", "test")

    result = indexed.search(store, Analyst("analyst"), SearchQuery(q="laden"))
    assert [h.caption for h in result.results] == ["Oussama ben Laden"]
    with pytest.raises(NotFound, match="watchlist"):
        indexed.search(store, Analyst("analyst"), SearchQuery(q="x", datasets=("watchlist",)))


def test_bad_parameters_name_the_culprit(indexed: SearchService, store: DuckDBStore) -> None:
    with pytest.raises(ConfigError, match="limit"):
        SearchQuery(q="x", limit=0)
    with pytest.raises(ConfigError, match="date_from"):
        SearchQuery(date_from=date(2020, 1, 1), date_to=date(2019, 1, 1))
    with pytest.raises(OntologyError, match="Persn"):
        indexed.search(store, Reader.system(), SearchQuery(q="x", schemata=("Persn",)))


def ranked(service: SearchService, store: DuckDBStore, q: str) -> list[tuple[float, list[str]]]:
    """Captions grouped by score, best first: equal scores have no order between them."""
    result = service.search(store, Reader.system(), SearchQuery(q=q))
    groups: dict[float, list[str]] = {}
    for hit in result.results:
        groups.setdefault(round(hit.score, 4), []).append(hit.caption or "")
    return [(score, sorted(found)) for score, found in sorted(groups.items(), reverse=True)]


def test_rebuild_gives_the_same_answers(indexed: SearchService, store: DuckDBStore) -> None:
    before = ranked(indexed, store, "laden")
    report = indexed.refresh(store, rebuild=True)
    assert report.full
    assert report.documents == 8
    assert ranked(indexed, store, "laden") == before
    assert len(before) > 1


def test_documents_are_the_same_when_built_in_parts(
    indexed: SearchService, store: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recoupe.store import search_source

    def rows() -> list[tuple[str, str]]:
        return sorted(
            (r["id"], r["dataset"])
            for batch in search_source.document_batches(store)
            for r in batch.to_pylist()
        )

    whole = rows()
    monkeypatch.setattr(search_source, "PART_STATEMENTS", 5)
    assert len(search_source._id_ranges(store)) > 1
    assert rows() == whole


def test_an_entity_held_by_two_datasets_counts_once(store: DuckDBStore, tmp_path: Path) -> None:
    """One document per (entity, dataset): totals and facets still count entities."""
    write(tmp_path / "first.csv", "id,name,birth\n1,Jean Dupont,\n2,Marie Curie,\n")
    write(tmp_path / "second.csv", "id,name,birth\n2,Marie Curie,\n3,Paul Martin,\n")
    for name, file in (("first", "first.csv"), ("second", "second.csv")):
        spec = MAPPING.format(name=name, file=file, extra="").replace(
            f"key_literal: {name}", "key_literal: person"
        )
        write(tmp_path / f"{name}.yml", spec)
    service = SearchService(store.path)
    ingest_mapping(store, tmp_path / "first.yml")
    service.refresh(store)
    ingest_mapping(store, tmp_path / "second.yml")
    assert not service.refresh(store).full  # the earlier document learns it is shared

    def counted(q: str, **kw: object) -> tuple[int, dict[str, dict[str, int]]]:
        found = service.search(store, Reader.system(), SearchQuery(q=q, **kw))  # type: ignore[arg-type]
        assert found.exact
        facets = {k: {v["value"]: v["count"] for v in vs} for k, vs in found.facets.items()}
        return found.total, facets

    total, facets = counted("")
    assert total == 3
    assert facets["schema"] == {"Person": 3}
    assert facets["dataset"] == {"first": 2, "second": 2}
    assert counted("Marie")[0] == 1
    assert counted("", datasets=("second",))[0] == 2
    assert [
        h.datasets for h in service.search(store, Reader.system(), SearchQuery(q="Curie")).results
    ] == [["first", "second"]]


def test_an_index_of_an_older_layout_is_built_again(
    indexed: SearchService, store: DuckDBStore
) -> None:
    meta = store.path / "index" / META
    meta.write_text(json.dumps({"version": INDEX_VERSION - 1, "generation": 1}))
    with pytest.raises(
        StoreError, match=rf"index version {INDEX_VERSION - 1} .* run `recoupe index`"
    ):
        SearchService(store.path).search(store, Reader.system(), SearchQuery(q="Curie"))
    report = SearchService(store.path).refresh(store)
    assert report.full and report.documents == 8
    assert names(SearchService(store.path), store, "Marie Curie")[0] == "Marie Curie"
