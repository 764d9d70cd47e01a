"""Saving and reopening an investigation, ingesting a file with a bad row, and the audit
view, in a real browser on the demo."""

from __future__ import annotations

from tests.ui.conftest import Browser, Served
from tests.ui.test_workspace import _cell

MAPPING = """\
surveillance:
  title: "Liste de surveillance"
  marking: DR
  queries:
    - csv_url: personnes.csv
      entities:
        personne:
          schema: Person
          keys: [id]
          key_literal: surveillance
          properties:
            name: {column: nom, required: true}
            birthDate: {column: naissance}
"""
ROWS = (
    "id,nom,naissance\n1,Zéphyrine Quintal,1984-02-29\n2,,1990-01-01\n3,Armand Quintal,1979-13-45\n"
)


def test_an_investigation_is_saved_and_reopened(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    (_, first), *_ = _cell(served)
    browser.goto(f"entity/{first}")
    page.click("#entity-expand")
    page.wait_for_selector("#view-graph[data-ready='1']")
    before = browser.order()
    page.click("#graph-save")
    page.wait_for_selector("#view-investigations[data-ready='1']")
    page.fill("#inv-title", "Cellule : premiers liens")
    page.fill("#inv-notes", "À recouper avec les virements.")
    page.fill("#inv-shares", "enqueteur")
    page.click("#inv-save")
    page.wait_for_selector("#inv-status:text('Enquête enregistrée')")
    assert "SECRET" in page.text_content("#inv-status")
    browser.shot("investigation-saved")
    # Reload the page: nothing in memory; reopen from the list.
    page.reload()
    page.wait_for_selector("header.top")
    page.fill("#justification", "enquête 2026-041")
    browser.goto("investigations")
    page.wait_for_selector("#inv-table tr[data-id] .inv-open")
    page.locator("#inv-table tr[data-id]", has_text="Cellule : premiers liens").locator(
        ".inv-open"
    ).click()
    page.wait_for_selector("#view-graph[data-ready='1']")
    browser.wait_until(lambda: browser.order() == before, "the reopened graph")
    assert "SECRET" in page.text_content("#banner-top")
    browser.shot("investigation-reopened")


def test_ingest_previews_then_runs_and_shows_the_bad_rows(browser: Browser, served: Served) -> None:
    browser.login(*served.account("analyst"))
    page = browser.page
    browser.goto("ingest")
    page.wait_for_selector("#view-ingest[data-ready='1']")
    page.set_input_files(
        "#ingest-files",
        files=[{"name": "personnes.csv", "mimeType": "text/csv", "buffer": ROWS.encode()}],
    )
    page.fill("#ingest-mapping", MAPPING)
    page.click("#ingest-preview")
    page.wait_for_selector("#preview-entities tr")
    assert "Zéphyrine Quintal" in page.text_content("#preview-entities")
    assert page.locator("#preview-rejected .rejected-row").count() == 1  # no name
    assert page.locator("#preview-dropped .rejected-row").count() == 1  # 1979-13-45
    browser.shot("ingest-preview")
    page.click("#ingest-run")
    page.wait_for_selector("#ingest-summary")
    assert "1 rejetées" in page.text_content("#ingest-summary")
    assert page.locator("#run-rejected .rejected-row").count() == 1
    assert page.get_attribute("#ingest-progress", "value") == "1"
    browser.shot("ingest-run")
    page.fill("#ingest-mapping", "surveillance: [not, a, mapping")
    page.click("#ingest-preview")
    page.wait_for_selector("#ingest-error")
    assert "mapping.yml" in page.text_content("#ingest-error")


def test_the_auditor_reads_the_log(browser: Browser, served: Served) -> None:
    browser.login(*served.account("auditor"), reason=None)
    page = browser.page
    assert page.locator("#nav-audit").count() == 1
    browser.goto("audit")
    page.wait_for_selector("#view-audit[data-ready='1']")
    assert "✔" in page.text_content("#audit-verdict")
    assert page.locator("#audit-table tbody tr").count() >= 5
    browser.shot("audit")
