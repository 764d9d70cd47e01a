"""The health dashboards in a real browser, on the demo's epidemic wave."""

from __future__ import annotations

from tests.ui.conftest import Browser, Served


def test_the_health_dashboards_read_the_demo(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    browser.goto("health")
    page.wait_for_selector("#view-health[data-ready='1']", timeout=120_000)
    for section in ("curves", "forecast", "alerts", "transfers", "scenarios", "trace"):
        assert page.locator(f"#health-{section} .error").count() == 0, section
    for section in ("curves", "forecast", "scenarios"):
        assert page.locator(f"#health-{section} svg[role='img']").count() >= 1, section
    assert page.locator("#health-alerts tr.urgent").count() >= 1
    assert "Mulhouse" in page.text_content("#health-transfers")
    assert page.locator("#health-trace svg").count() >= 1
    assert page.locator("#health-curves .case-bars, #health-curves .cases-chart").count() >= 1
    assert "SANTE" in page.text_content("#banner-top")
    browser.shot("health")
    page.locator("#health-transfers").scroll_into_view_if_needed()
    browser.shot("health-transfers")
