"""The map in a real browser: the offline basemap, located entities, and who was there
by drawing a circle."""

from __future__ import annotations

from tests.ui.conftest import Browser, Served


def test_drawing_a_circle_lists_who_was_there(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    browser.goto("map")
    page.wait_for_selector("#view-map[data-ready='1']")
    place = page.evaluate(
        """async () => {
            const r = await fetch('/api/places/bbox?south=41&west=-5&north=51&east=10&limit=1',
                {headers: {'X-Recoupe-Justification': 'test'}});
            return (await r.json()).places[0];
        }"""
    )
    page.evaluate(  # a block: returning the Map would make Playwright serialise all of it
        "([lon, lat]) => { document.querySelector('#map')._map"
        ".jumpTo({center: [lon, lat], zoom: 14}); }",
        [place["lon"], place["lat"]],
    )
    page.wait_for_timeout(500)
    box = page.locator("#map").bounding_box()
    assert box is not None
    centre = page.evaluate(
        "([lon, lat]) => { const p = document.querySelector('#map')._map.project([lon, lat]);"
        " return [p.x, p.y]; }",
        [place["lon"], place["lat"]],
    )
    x, y = box["x"] + centre[0], box["y"] + centre[1]
    page.click("#map-circle")
    page.mouse.click(x, y)
    page.mouse.click(x + 120, y)
    page.wait_for_selector("#map-found .found-item")
    assert "dans le cercle" in page.text_content("#map-found-count")
    found = int(page.get_attribute("#view-map", "data-found") or 0)
    assert found == page.locator("#map-found .found-item").count() >= 1
    browser.shot("map-circle")
    page.locator("#map-found .found-item a").first.click()
    page.wait_for_selector("#entity-properties tbody tr")
