"""Contact tracing on the Hagelloch 1861 measles outbreak: 188 cases, 184 infector
links, 4 trees, and case 45 who infected 30 others (the figures of the data's README,
checked by hand in R and Python when it was exported)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from recoupe.errors import ConfigError
from recoupe.health.tracing import forest
from recoupe.security.reader import Reader
from recoupe.services.graph import GraphService
from recoupe.services.ingest import ingest_mapping
from recoupe.services.tracing import chain, transmission_report
from recoupe.store import DuckDBStore, open_store
from tests.health.conftest import DATA, rows

MAPPING = Path(__file__).parents[2] / "docs" / "examples" / "hagelloch.yml"


def test_the_forest_of_the_recorded_infectors() -> None:
    cases = rows("hagelloch/hagelloch.csv")
    ids = [r["PN"] for r in cases]
    index = {pn: i for i, pn in enumerate(ids)}
    infector = [index[r["IFTO"]] if r["IFTO"] != "NA" else -1 for r in cases]
    onset = [(date.fromisoformat(r["PRO"]) - date(1861, 10, 30)).days for r in cases]
    found = forest(ids, infector, onset)
    summary = found.summary()
    assert (summary["cases"], summary["links"], summary["trees"]) == (188, 184, 4)
    assert summary["tree_sizes"] == [173, 9, 5, 1]
    assert summary["roots"] == ["184", "173", "174", "141"]
    assert found.super_spreaders(1) == [("45", 30)]
    assert summary["infected_nobody"] == 126
    assert summary["deepest_generation"] == 5
    assert summary["offspring_variance"] == pytest.approx(6.872, abs=1e-3)
    assert summary["serial_interval_mean"] == pytest.approx(10.391, abs=1e-3)
    assert summary["serial_interval_sd"] == pytest.approx(1.679, abs=1e-3)
    deepest = max(range(188), key=lambda i: found.generation[i])
    assert len(found.chain(deepest)) == 6  # five links from the root


def test_a_cycle_or_a_bad_infector_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        forest(["a", "b", "c"], [1, 0, -1], [0, 1, 2])
    with pytest.raises(ConfigError, match="case 'a': infector index 0"):
        forest(["a", "b"], [0, -1], [0, 1])
    with pytest.raises(ConfigError, match="'a' is listed twice"):
        forest(["a", "a"], [-1, -1], [0, 1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    folder = tmp_path_factory.mktemp("hagelloch")
    shutil.copy(DATA / "hagelloch" / "hagelloch.csv", folder / "hagelloch.csv")
    shutil.copy(MAPPING, folder / "hagelloch.yml")
    with open_store(folder / "ws", create=True, memory_limit="1GB", threads=2) as opened:
        run = ingest_mapping(opened, folder / "hagelloch.yml")
        assert run.rows_rejected == 0
        assert run.rows_filtered == 4  # the four cases without a recorded infector
        yield opened


def test_cases_in_the_store_answer_the_transmission_questions(store: DuckDBStore) -> None:
    report = transmission_report(store, Reader.system())
    assert (report["cases"], report["links"], report["trees"]) == (188, 184, 4)
    top = report["super_spreaders"][0]
    assert (top["case"], top["infected"]) == ("45", 30)
    assert [r["case"] for r in report["roots"]] == ["184", "173", "174", "141"]
    assert len(report["longest_chain"]) == 6


def test_the_graph_engine_walks_the_chains(store: DuckDBStore) -> None:
    reader = Reader.system()
    ids = dict(
        store.con.execute(
            "SELECT value, entity_id FROM statements WHERE schema = 'Case' AND prop = 'caseNumber'"
        ).fetchall()
    )
    steps = chain(store, reader, ids["45"])
    assert steps[0]["case"] == "184"  # the root of the great tree
    assert steps[-1]["case"] == "45"
    assert [s["generation"] for s in steps] == list(range(len(steps)))
    graph = GraphService(store)
    found = graph.paths(reader, ids["184"], ids["45"], schemata=["Transmission"])
    assert found["length"] == len(steps) - 1
    around = graph.expand(reader, [ids["45"]], depth=1, schemata=["Transmission"])
    assert len(around["nodes"]) == 1 + 1 + 30  # itself, its infector, the 30 it infected


def test_a_reader_sees_no_cases_of_a_dataset_they_may_not_see(store: DuckDBStore) -> None:
    from recoupe.errors import NotFound

    store.set_marking("hagelloch", "DR")  # Diffusion Restreinte
    try:
        public = Reader("public", roles=frozenset({"viewer"}), clearance=0)
        cleared = Reader("cleared", roles=frozenset({"viewer"}), clearance=1)
        with pytest.raises(NotFound, match="no case"):
            transmission_report(store, public)
        assert transmission_report(store, cleared)["cases"] == 188
    finally:
        store.set_marking("hagelloch", "NP")
