"""The report of a sample run, opened in headless Chromium as a reader would: the answer first, tables
sorted and searched, hover details on the charts, and no request leaving the machine.

Needs Debian's chromium (/usr/bin/chromium; .ci/run installs it) and playwright from PyPI (the lock):
playwright's own browser download is not used. Without chromium the test is skipped, except in CI.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest

from pdclosures import params, pipeline
from pdclosures.rates import percent

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("PDCLOSURES_CHROMIUM", "/usr/bin/chromium"))
LOCAL_SCHEMES = {"file", "data", "blob"}  # blob: the page's own embedded script, turned into a module
SAMPLE = pipeline.PROJECT_ROOT / "data" / "sample" / "eoir_synthetic_sample.zip"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """A run of the pipeline on the synthetic sample, with the default window and method."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} not found: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    pytest.importorskip("playwright")
    root = tmp_path_factory.mktemp("browser") / "project"
    paths = pipeline.Paths(root, notebooks=pipeline.PROJECT_ROOT / "notebooks")
    pipeline.run(params.resolve(release=str(SAMPLE), run="browser"), paths, log=lambda *_: None)
    return paths.reports / "browser" / "report.html", paths.processed / "browser"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_report(browser, report: Path):
    """The report in a new page; returns (page, every URL the page asked for)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    requested: list[str] = []

    def only_local(route):
        requested.append(route.request.url)
        if urlsplit(route.request.url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_local)
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())
    page.wait_for_selector("#pd-table-courts.dataTable", timeout=30_000)
    page.wait_for_selector("#pd-chart-courts .scatterlayer .point", timeout=30_000)
    assert errors == []
    return page, requested


def column(page, table_id: str, heading: str) -> list[str]:
    """The cells of one column, as shown on the table's current page."""
    headings = page.locator(f"#{table_id} thead th").all_inner_texts()
    index = [text.strip() for text in headings].index(heading)
    return [text.strip() for text in page.locator(f"#{table_id} tbody tr td:nth-child({index + 1})").all_inner_texts()]


def as_number(text: str) -> float:
    return float(text.rstrip("%").replace(",", ""))


def test_the_report_answers_first_and_its_tables_sort_and_search(sample_run, browser, tmp_path):
    report, processed = sample_run
    courts = pd.read_csv(processed / "courts.csv")
    national = pd.read_csv(processed / "national.csv").iloc[0]
    page, requested = open_report(browser, report)
    page.screenshot(path=str(tmp_path / "answer.png"))

    # The answer comes first, before the figures, the tables and the notebooks.
    text = page.locator("body").inner_text()
    headline = f"{percent(national['pd_rate'])} of the cases completed in immigration court"
    order = [text.find(s) for s in ("SYNTHETIC SAMPLE", "The answer", headline, "Figures", "Tables", "Part 1 of 4")]
    assert -1 not in order and order == sorted(order), order
    assert f"{national['pd_closures']:,} PD closures of {national['completions']:,} completions" in text
    assert "Highest and lowest courts" in text and "pass," in text and "not computable" in text

    # Every court is in the table (not the first 15).
    info = page.locator("#pd-table-courts_wrapper .dt-info").inner_text()
    assert f"of {len(courts)} entries" in info

    # Sort by rate: ascending on the first click, descending on the second.
    rate_heading = page.locator("#pd-table-courts thead th", has_text="PD rate")
    rate_heading.click()
    expect(rate_heading).to_have_attribute("aria-sort", "ascending")
    rates = [as_number(r) for r in column(page, "pd-table-courts", "PD rate") if r]
    assert rates == sorted(rates)
    page.wait_for_timeout(300)  # two quick clicks are one double click, which DataTables does not count twice
    rate_heading.click()
    expect(rate_heading).to_have_attribute("aria-sort", "descending")
    rates = column(page, "pd-table-courts", "PD rate")
    assert [as_number(r) for r in rates if r] == sorted((as_number(r) for r in rates if r), reverse=True)
    top = courts[courts["pd_rate"] == courts["pd_rate"].max()]
    assert rates[0] == percent(top["pd_rate"].iloc[0])
    assert column(page, "pd-table-courts", "Court")[0] in set(top["court"])
    page.screenshot(path=str(tmp_path / "sorted.png"))

    # Search for a court: only its row is left.
    page.locator("#pd-table-courts_wrapper input[type=search]").fill("Seattle")
    page.wait_for_function("document.querySelectorAll('#pd-table-courts tbody tr').length === 1", timeout=10_000)
    seattle = courts[courts["court"].str.contains("Seattle")].iloc[0]
    assert column(page, "pd-table-courts", "Court") == [seattle["court"]]
    assert column(page, "pd-table-courts", "PD rate") == [percent(seattle["pd_rate"])]
    assert column(page, "pd-table-courts", "Completions") == [f"{seattle['completions']:,}"]
    assert (
        f"filtered from {len(courts)} total entries" in page.locator("#pd-table-courts_wrapper .dt-info").inner_text()
    )

    # The other tables are there, sortable and searchable too.
    for table in ("hearing-locations", "states", "circuits", "fiscal-years", "months", "validation"):
        assert page.locator(f"#pd-table-{table}.dataTable").count() == 1
        assert page.locator(f"#pd-table-{table}_wrapper input[type=search]").count() == 1

    page.screenshot(path=str(tmp_path / "searched.png"))
    keep_screenshots(tmp_path)

    page.close()
    assert_local(requested)


def keep_screenshots(folder: Path) -> None:
    """Copy the screenshots to PDCLOSURES_SCREENSHOTS, when it names a folder (to look at the page)."""
    if os.environ.get("PDCLOSURES_SCREENSHOTS"):
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(os.environ["PDCLOSURES_SCREENSHOTS"]) / png.name)


def hover_text(page, chart: str, point: int) -> str:
    """Move the mouse onto a chart's point; the text of the hover label it shows."""
    target = page.locator(f"#{chart} .scatterlayer .point").nth(point)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator(f"#{chart} .hoverlayer .hovertext")
    label.wait_for(timeout=10_000)
    return label.text_content()  # SVG text: its lines run together


def test_hovering_a_point_shows_its_court_or_month_rate_interval_and_n(sample_run, browser, tmp_path):
    report, processed = sample_run
    page, requested = open_report(browser, report)

    courts = pd.read_csv(processed / "courts.csv")
    shown = page.locator("#pd-chart-courts .scatterlayer .point").count()
    assert shown == int((courts["completions"] >= 100).sum())  # every ranked court
    text = hover_text(page, "pd-chart-courts", shown - 1)  # the last point drawn: the highest rate
    top = courts[courts["completions"] >= 100].iloc[0]  # courts.csv: highest rate first among the ranked
    assert top["court"] in text
    assert f"PD rate {percent(top['pd_rate'])}" in text
    assert f"95% interval {100 * top['ci_low']:.1f}–{percent(top['ci_high'])}" in text
    assert f"{top['pd_closures']:,} PD closures of {top['completions']:,} completions" in text
    page.screenshot(path=str(tmp_path / "hover-courts.png"))

    months = pd.read_csv(processed / "months.csv")
    first = months[months["completions"] > 0].iloc[0]
    text = hover_text(page, "pd-chart-months", 0)
    assert first["month"] in text and f"PD rate {percent(first['pd_rate'])}" in text
    assert f"{first['pd_closures']:,} PD closures of {first['completions']:,} completions" in text
    page.screenshot(path=str(tmp_path / "hover-months.png"))
    keep_screenshots(tmp_path)

    page.close()
    assert_local(requested)


def assert_local(requested: list[str]) -> None:
    assert requested, "the page made no request at all (not even for itself)"
    leaving = sorted({url for url in requested if urlsplit(url).scheme not in LOCAL_SCHEMES})
    assert leaving == [], f"requests left the machine: {leaving}"
    assert not [url for url in requested if re.match(r"(?i)https?:", url)]
