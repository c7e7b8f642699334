"""The report and the served app in a real browser: Debian's Chromium driven by Playwright.

Screenshots are written to test-artifacts/ (kept by CI as artefacts of the run).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.conftest import ARTIFACTS

SECTIONS = [
    "headline",
    "map-section",
    "scatter",
    "outcomes",
    "regions",
    "lads",
    "wards",
    "profile",
    "diagnostics",
    "method",
]


def expected_shapes(shared_data) -> int:
    """CNI wards that hold a best-fit LSOA (the map dissolves LSOAs through the ONS best fit)."""
    from leftbehind.data import load

    lk = load("lookup_lsoa11_wd17", shared_data)
    cni = load("cni2019_wards", shared_data)
    return int(cni["wd17cd"].isin(set(lk["wd17cd"])).sum())


def open_page(browser, url: str, offline: bool):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    if offline:

        def guard(route):
            if route.request.url.startswith(("file:", "data:")):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        page.route("**/*", guard)
    page.goto(url)
    return page, problems, outside


def exercise(page, n_shapes: int, shot: str) -> None:
    assert page.locator("#map path.ward").count() == n_shapes
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#map-section").screenshot(path=str(ARTIFACTS / shot))
    for s in SECTIONS:
        assert page.locator(f"#{s}").is_visible(), s
    assert page.locator("#scatter-chart circle").count() > 7_000
    assert page.locator("#outcome-chart .outrow").count() >= 20
    assert page.locator("#lad-table tbody tr").count() > 290
    assert page.locator("#hexmap path").count() == 650
    assert page.locator("#leave-chart circle").count() == 533 and page.locator("#fit-line").count() == 1
    assert page.locator("#furlough-table tbody tr").count() == 10
    # hover shows the tooltip
    page.locator('#map path[data-c="E05003984"]').hover(force=True)
    assert page.locator("#tip").is_visible()
    # search the ward table, open the profile
    page.fill("#ward-search", "Sidley")
    rows = page.locator("#ward-table tbody tr")
    assert rows.count() == 1 and "Sidley" in rows.first.inner_text()
    rows.first.click()
    assert page.locator("#profile-body h3").inner_text() == "Sidley"
    assert page.locator("#profile-body table").count() == 2
    # the ward's own indicator values are shown (income-deprived share of Sidley, a number, not a dash)
    first_value = page.locator("#profile-body table").nth(1).locator("tr").nth(1).locator("td").nth(1).inner_text()
    assert first_value.replace(".", "", 1).isdigit(), first_value
    # zoom buttons change the view box
    before = page.get_attribute("#map", "viewBox")
    page.click("#zin")
    assert page.get_attribute("#map", "viewBox") != before
    page.click("#zreset")
    # sort the LAD table by left-behind wards
    page.locator("#lad-table thead th").nth(2).click()
    page.locator("#lad-table thead th").nth(2).click()
    first = page.locator("#lad-table tbody tr").first.inner_text()
    assert "County Durham" in first
    page.locator("#profile").screenshot(path=str(ARTIFACTS / shot.replace(".png", "-profile.png")))


def test_report_file_offline(browser, run_out, shared_data):
    report = run_out[0] / "report.html"
    size = report.stat().st_size
    assert size <= 15 * 1024 * 1024
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    page, problems, outside = open_page(browser, report.as_uri(), offline=True)
    exercise(page, expected_shapes(shared_data), "report-offline.png")
    assert outside == [], outside
    assert problems == [], problems
    page.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(run_out):
    import uvicorn

    from leftbehind.context import RunContext
    from leftbehind.web.app import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(run_out[0], ctx=RunContext()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_served_app_in_the_browser(browser, served, shared_data):
    page, problems, _ = open_page(browser, served + "/", offline=False)
    exercise(page, expected_shapes(shared_data), "served-app.png")
    api = page.evaluate("fetch('/api/wards?q=Sidley').then(r => r.json())")
    assert api["items"][0]["ward_name"] == "Sidley"
    assert problems == [], problems
    assert page.evaluate("fetch('/api/wards/E05999999').then(r => r.status)") == 404
    page.close()


def test_hostile_names_render_as_text(browser, run_out, tmp_path):
    """Names like "St Matthew's" and a <script> payload must show as text, never run."""
    from leftbehind.context import RunContext
    from leftbehind.report.build import write_report
    from leftbehind.report.tables import read_results

    res = read_results(run_out[0])
    w = res.tables["wards"]
    hostile = "<script>alert('x')</script><img src=x onerror=alert(2)>"
    w.loc[w["ward_code"] == "E05003984", "ward_name"] = hostile
    w.loc[w["ward_code"] == "E05000026", "ward_name"] = 'St Matthew\'s & "Quoted"'
    lad = res.tables["breakdown_lad"]
    lad.loc[lad.index[0], "area_name"] = "<b>bold</b>"
    write_report(res, tmp_path, ("html",), ctx=RunContext())
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    page, problems, outside = open_page(browser, (tmp_path / "report.html").as_uri(), offline=True)
    page.fill("#ward-search", "E05003984")
    row = page.locator("#ward-table tbody tr").first
    assert hostile in row.inner_text()
    row.click()
    assert page.locator("#profile-body h3").inner_text() == hostile
    page.fill("#ward-search", "E05000026")
    assert 'St Matthew\'s & "Quoted"' in page.locator("#ward-table tbody tr").first.inner_text()
    assert page.locator("#lad-table").inner_text().count("<b>bold</b>") == 1
    assert problems == [] and outside == []
    page.close()


def test_current_picture_layer(browser, run_2025):
    """--edition 2025: the report gains the current-picture section and a map layer for the change."""
    out = run_2025[0]
    page, problems, outside = open_page(browser, (out / "report.html").as_uri(), offline=True)
    assert page.locator("#current").is_visible()
    assert page.locator("#transitions-table tbody tr").count() == 9
    page.click("#layer-2025")
    assert page.locator("#map path.t-lb2020_still").count() > 150
    assert page.locator("#map path.t-new_lb_area").count() > 0
    assert page.locator("#legend-2025").is_visible()
    page.click("#layer-2020")
    assert page.locator("#map path.g-left_behind").count() > 200
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#current").screenshot(path=str(ARTIFACTS / "current-picture.png"))
    assert problems == [] and outside == []
    page.close()
