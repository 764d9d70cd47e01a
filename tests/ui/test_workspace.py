"""The main flows of the workspace in a real browser, on the demo: login, search, the
entity page, expanding into the graph, a path, and the review of a pair."""

from __future__ import annotations

from recoupe.scenario.truth import telecom_people
from tests.ui.conftest import Browser, Served


def test_login_refuses_a_wrong_password_then_opens(browser: Browser, served: Served) -> None:
    login, password = served.account("analyst")
    page = browser.page
    page.goto(f"{served.url}/")
    page.fill("#login", login)
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "refusée" in page.text_content("#login-error")
    browser.shot("login-refused")
    browser.login(login, password)
    assert page.text_content("#user") == login
    assert page.get_attribute("html", "lang") == "fr"
    page.click("#lang")
    page.wait_for_selector("#nav-search:text('Search')")
    page.click("#lang")
    page.wait_for_selector("#nav-search:text('Recherche')")


def _cell(served: Served) -> list[tuple[str, str]]:
    import json

    truth = json.loads((served.report.scenario / "truth.json").read_text(encoding="utf-8"))
    members = [p for p in truth["people"] if p["cell"]]
    found = [(name, eid) for _, name, eid, _ in telecom_people({"people": members})]
    assert len(found) >= 2
    return found


def test_compartmented_reads_ask_for_a_reason_then_go_on(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"), reason=None)
    page = browser.page
    (name, _), *_ = _cell(served)
    browser.goto(f"search?q={name}")
    page.wait_for_selector("#why-dialog[open]")
    browser.shot("justification")
    page.fill("#why-reason", "enquête 2026-041")
    page.click("#why-submit")
    page.wait_for_selector("#results .hit")
    assert page.input_value("#justification") == "enquête 2026-041"


def test_search_opens_the_entity_with_its_sources(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    (name, entity_id), *_ = _cell(served)
    page.fill("#q", name)
    page.click("#search-submit")
    page.wait_for_selector("#results .hit")
    assert page.locator("#facet-schema input").count() >= 1
    assert page.locator("#results mark").count() >= 1  # highlights
    banner = page.text_content("#banner-top")
    assert banner and banner != "Aucune donnée affichée"
    browser.shot("search")
    page.click(f"#results a[href='#/entity/{entity_id}']")
    page.wait_for_selector("#entity-properties tbody tr")
    assert name.split()[0].lower() in page.text_content("#entity-caption").lower()
    assert page.locator("#entity-properties .source .tag").count() >= 1
    # Property labels in French, the identifier in the tooltip.
    assert page.text_content("#entity-properties th[title='name']") == "Nom"
    assert page.text_content("#banner-top") == page.text_content(".marking-line strong")
    page.wait_for_selector("#entity-related li")
    # The member's line used cell towers: their places are on the page's own map.
    page.wait_for_selector("#entity-map-canvas[data-ready='1']", timeout=30_000)
    page.locator("#entity-places").scroll_into_view_if_needed()
    browser.shot("entity")


def test_the_hidden_cell_shows_in_the_graph_with_a_path(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    (_, first), (_, second), *_ = _cell(served)
    browser.goto(f"entity/{first}")
    page.wait_for_selector("#entity-expand")
    page.click("#entity-expand")
    page.wait_for_selector("#view-graph[data-ready='1']")
    nodes = browser.order()
    assert nodes >= 2
    # Expand the phone line: the lines it called appear.
    # Types show in French: the schema Phone is a « Ligne téléphonique ».
    line = page.locator("#graph-pick option", has_text="(Ligne téléphonique)")
    phone = line.first.get_attribute("value")
    page.click("#graph", position={"x": 5, "y": 5})  # on the background: nothing selected
    page.select_option("#graph-pick", phone)
    page.click("#graph-expand")
    browser.wait_until(lambda: browser.order() > nodes, "the expansion")
    browser.shot("graph-expanded")
    assert page.text_content("#banner-top") != "Aucune donnée affichée"
    # Bring the second member in and ask for a path between the two.
    browser.goto(f"entity/{second}")
    page.click("#entity-expand")
    page.wait_for_selector("#view-graph[data-ready='1']")
    page.select_option("#graph-pick", first)  # the second is selected already (focus)
    page.click("#graph-path")
    page.wait_for_selector("#graph[data-path]")
    path = page.get_attribute("#graph", "data-path").split(",")
    assert path[0] in (first, second) and path[-1] in (first, second) and len(path) >= 2
    browser.shot("graph-path")
    page.check("#graph-communities")
    assert page.get_attribute("#graph", "data-colour-by") == "community"
    page.click("#graph-undo")
    browser.wait_until(lambda: browser.order() > 0, "the graph after undo")


def test_a_pair_is_judged_then_undone(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    browser.goto("review")
    page.wait_for_selector("#view-review[data-ready='1']")
    first = page.locator("article.pair").first
    left = first.get_attribute("data-left")
    assert page.locator("article.pair table.explanation tr").count() >= 1
    browser.shot("review")
    first.locator("button.unsure").click()
    page.wait_for_selector("#review-status:text('Incertain')")
    page.wait_for_selector("#review-undo:not([disabled])")
    page.click("#review-undo")
    page.wait_for_selector("#review-status:text('Annuler')")
    assert page.locator(f"article.pair[data-left='{left}']").count() >= 1  # back in the queue


# Add nodes to the graph in view, then zoom: the picture moves, the graph is drawn at rest.
GROW = """(n) => {
    const graph = document.querySelector('#graph')._graph;
    for (let i = 0; i < n; i++)
        graph.addNode(`extra-${i}`, { x: Math.cos(i), y: Math.sin(i), size: 3, color: '#888' });
    return graph.order;
}"""
ZOOM = """() => { const s = document.querySelector('#graph')._sigma;
    s.getCamera().animate({ ratio: s.getCamera().ratio * 0.4 }, { duration: 1500 }); }"""


def test_a_big_graph_moves_as_a_picture_and_is_drawn_at_rest(
    browser: Browser, served: Served
) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    (_, first), *_ = _cell(served)
    browser.goto(f"entity/{first}")
    page.click("#entity-expand")
    page.wait_for_selector("#view-graph[data-ready='1']")
    assert page.evaluate(GROW, 3_500) > 3_000
    page.wait_for_selector("#graph[data-moving='0']")
    drawn = int(page.get_attribute("#graph", "data-drawn") or 0)
    page.evaluate(ZOOM)
    page.wait_for_selector("#graph[data-moving='1']")
    assert page.locator("#graph canvas.graph-picture").is_visible()
    browser.shot("graph-moving")
    page.wait_for_selector("#graph[data-moving='0']", timeout=30_000)
    assert int(page.get_attribute("#graph", "data-previewed") or 0) >= 1
    assert int(page.get_attribute("#graph", "data-drawn") or 0) > drawn
    assert not page.locator("#graph canvas.graph-picture").is_visible()
    # The keyboard moves the camera too: "-" zooms out.
    ratio = "() => document.querySelector('#graph')._sigma.getCamera().ratio"
    before = page.evaluate(ratio)
    page.focus("#graph")
    page.keyboard.press("-")
    browser.wait_until(lambda: page.evaluate(ratio) > before * 1.2, "the zoom from the keyboard")
