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


def open_page(browser, url: str, offline: bool, width: int = 1300, height: int = 900):
    """A page on ``url``; ``problems`` collects console errors, page errors and dialogs, ``outside`` every
    request (seen by ``page.on("request")`` and by the route guard) to anything but a file: or data: URL."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    if offline:
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url))

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
    # the first screen says which edition, unit, run and version is read, and gives today's headline numbers
    facts = page.locator("#edition").inner_text()
    parts = ("CNI 2023 × IMD 2025", "CNI 2019 × IMD 2019", "LSOAs 2021 (33,755)", "December 2017 wards", "leftbehind ")
    for part in (*parts, "Run"):
        assert part in facts, (part, facts)
    cards = page.locator("#current-headline .card")
    assert cards.count() >= 3
    text = page.locator("#current-headline").inner_text()
    assert "left-behind LSOAs 2021" in text and "residents (Census 2021)" in text and "rank ≤ 3,375" in text
    for i in range(3):
        box = cards.nth(i).bounding_box()
        assert box["y"] + box["height"] <= 900, ("not on the first screen", box)
    assert page.locator("#current").is_visible()
    assert page.locator("#transitions-table tbody tr").count() == 9
    assert page.get_attribute("#layer-2020", "aria-pressed") == "true"
    page.click("#layer-2025")
    assert page.get_attribute("#layer-2025", "aria-pressed") == "true"
    assert page.get_attribute("#layer-2020", "aria-pressed") == "false"
    assert page.locator("#map path.t-lb2020_still").count() > 150
    assert page.locator("#map path.t-new_lb_area").count() > 0
    assert page.locator("#legend-2025").is_visible() and not page.locator("#legend").is_visible()
    page.click("#layer-2020")
    assert page.locator("#map path.g-left_behind").count() > 200
    assert page.locator("#legend").is_visible() and not page.locator("#legend-2025").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#current").screenshot(path=str(ARTIFACTS / "current-picture.png"))
    assert problems == [] and outside == []
    page.close()


# ---------------------------------------------------------------- the report as people read it (issue 15)


def _wards(run_folder):
    import pandas as pd

    return pd.read_csv(run_folder / "wards.csv", usecols=["ward_code", "ward_name", "lad_code", "lad_name"])


def _focused(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement !== null && document.activeElement.matches(s)", selector)


def _tab_to(page, selector: str, limit: int = 60) -> int:
    """Press Tab until the focused element matches ``selector``; returns the number of presses."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return n
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def test_keyboard_alone_reaches_a_ward_profile(browser, run_out):
    page, problems, outside = open_page(browser, (run_out[0] / "report.html").as_uri(), offline=True)
    # the first Tab shows the skip link; Enter moves to the main content
    page.keyboard.press("Tab")
    assert _focused(page, "a.skip") and page.locator("a.skip").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert _focused(page, "main")
    # the map is one Tab stop; its shapes name the ward and its group
    _tab_to(page, "#map path.ward")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "button"
    assert (
        ", " in label
        and ": " in label
        and label.rsplit(": ", 1)[1]
        in {
            "Left-behind neighbourhoods",
            "Other deprived areas",
            "Rest of England",
        }
    ), label
    assert page.locator("#map path.ward[tabindex='0']").count() == 1  # a roving tab stop, not 7,421 of them
    page.keyboard.press("ArrowRight")
    moved = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert _focused(page, "#map path.ward") and moved != label
    assert page.get_attribute("#focus-ring", "d")  # the focused shape is outlined
    assert page.locator("#tip").is_visible()
    page.keyboard.press("Enter")
    name = moved.split(", ")[0]
    assert page.locator("#profile-body h3").inner_text() == name
    assert _focused(page, "#profile-name")
    # the sticky bar does not cover the ward name
    nav = page.locator("nav.toc").bounding_box()
    assert page.locator("#profile-name").bounding_box()["y"] >= nav["y"] + nav["height"]
    # the ward table: type a search, Tab to the row, Enter (and Space) opens the profile
    page.focus("#ward-search")
    page.keyboard.type("Sidley")
    _tab_to(page, "#ward-table tbody tr")
    assert "Sidley" in page.evaluate("document.activeElement.getAttribute('aria-label')")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", outline
    page.keyboard.press("Enter")
    assert page.locator("#profile-body h3").inner_text() == "Sidley"
    page.fill("#ward-search", "thamesmead moorings")
    page.locator("#ward-table tbody tr").first.focus()
    page.keyboard.press(" ")
    assert page.locator("#profile-body h3").inner_text() == "Thamesmead Moorings"
    # sortable headings answer the keyboard too, and say how they sort
    th = page.locator("#lad-table thead th").nth(2)
    th.focus()
    page.keyboard.press("Enter")
    assert th.get_attribute("aria-sort") == "ascending"
    # named controls
    for sel in ("#zin", "#zout", "#zreset", "#prev", "#next"):
        assert page.get_attribute(sel, "aria-label"), sel
    assert page.locator("label[for=ward-search]").count() == 1 and page.locator("label[for=ward-group]").count() == 1
    # nav links land below the sticky bar: the search box is not under it
    page.click("nav.toc a[href='#wards']")
    nav = page.locator("nav.toc").bounding_box()
    assert page.locator("#ward-search").bounding_box()["y"] >= nav["y"] + nav["height"]
    assert page.locator("#wards h2").bounding_box()["y"] >= nav["y"] + nav["height"]
    assert problems == [] and outside == [], (problems, outside)
    page.close()


def test_search_normalises_names_and_finds_local_authority_codes(browser, run_out):
    wards = _wards(run_out[0])
    page, problems, outside = open_page(browser, (run_out[0] / "report.html").as_uri(), offline=True)

    def search(q: str) -> tuple[int, list[str]]:
        page.fill("#ward-search", q)
        count = int(page.locator("#ward-count").inner_text().split()[0].replace(",", ""))
        return count, page.locator("#ward-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.c)")

    lad = wards[wards["lad_name"] == "St. Helens"]
    assert len(lad) > 10
    n, codes = search("  st. helens ")
    assert set(lad["ward_code"]) <= set(codes)  # every ward of St. Helens...
    assert "E05000993" in codes  # ...and the St Helens ward of Barnsley
    assert {c for c in codes if c not in set(lad["ward_code"])} <= set(
        wards.loc[wards["ward_name"].str.contains("Helen"), "ward_code"]
    )
    for q in ("St Helens", "st helens", "ST.  HELENS", "St Helen's"):
        assert search(q)[0] == n, q
    # a local-authority code (E06/E07/E08/E09) finds exactly its wards, in any case
    for code in ("E08000013", "e06000047", "E07000064", "E09000002"):
        n, codes = search(code)
        expected = set(wards.loc[wards["lad_code"] == code.upper(), "ward_code"])
        assert n == len(expected) > 0 and set(codes) <= expected, code
    # '&' and 'and' are the same
    assert search("Stainforth and Barnby Dun")[0] == 1 == search("stainforth & barnby dun")[0]
    assert search("  e05003984 ")[1] == ["E05003984"]
    assert problems == [] and outside == [], (problems, outside)
    page.close()


@pytest.mark.parametrize("run", ["run_out", "run_2025"])
def test_axe_finds_no_serious_accessibility_problems(browser, run, request):
    """axe-core (bundled with axe-playwright-python: nothing is downloaded) on the whole report with a ward
    profile open: no violation of impact serious or critical."""
    from axe_playwright_python.sync_playwright import Axe

    out = request.getfixturevalue(run)[0]
    page, problems, outside = open_page(browser, (out / "report.html").as_uri(), offline=True)
    page.fill("#ward-search", "Sidley")
    page.locator("#ward-table tbody tr").first.press("Enter")
    results = Axe().run(page)
    violations = results.response["violations"]
    bad = [
        (v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    assert problems == [] and outside == [], (problems, outside)
    page.close()


@pytest.mark.parametrize("run", ["run_out", "run_2025"])
def test_mobile_viewport_does_not_overflow(browser, run, request):
    out = request.getfixturevalue(run)[0]
    page, problems, outside = open_page(browser, (out / "report.html").as_uri(), offline=True, width=390, height=844)
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 390, page.evaluate(width)
    assert page.evaluate("getComputedStyle(document.querySelector('nav.toc')).position") == "static"
    assert page.locator("#map").bounding_box()["width"] <= 390
    page.fill("#ward-search", "Sidley")
    page.locator("#ward-table tbody tr").first.click()
    assert page.locator("#profile-body h3").inner_text() == "Sidley"
    assert page.evaluate(width) <= 390, page.evaluate(width)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"mobile-{run}.png"))
    assert problems == [] and outside == [], (problems, outside)
    page.close()


def _tick_values(page, selector: str) -> list[list[float]]:
    """The numbers of each axis (runs of ``text.tick`` with one x or one y) in the chart ``selector``."""
    axes = page.evaluate(
        """s => Array.from(document.querySelectorAll(s)).map(svg => {
             const ts = Array.from(svg.querySelectorAll('text.tick'));
             const byY = {}, byX = {};
             ts.forEach(t => { (byY[t.getAttribute('y')] ||= []).push(t.textContent);
                               (byX[t.getAttribute('x')] ||= []).push(t.textContent); });
             return Object.values(byY).concat(Object.values(byX)).filter(a => a.length > 1);
           }).flat()""",
        selector,
    )
    return [[float(v.replace(",", "").replace("%", "")) for v in axis] for axis in axes]


def _is_nice(step: float) -> bool:
    import math

    mant = step / 10 ** math.floor(math.log10(step) + 1e-9)
    return any(abs(mant - m) < 1e-6 for m in (1, 2, 5, 10))


def test_labels_in_words_and_nice_ticks(browser, run_out):
    import re

    page, problems, outside = open_page(browser, (run_out[0] / "report.html").as_uri(), offline=True)
    facts = page.locator("#edition").inner_text()
    assert "2020: CNI 2019 × IMD 2019" in facts and "December 2017 wards (7,433)" in facts and "leftbehind " in facts
    page.evaluate("window.leftbehindShowProfile('E05003984', false)")
    text = page.evaluate(
        """() => { const b = document.querySelector('main').cloneNode(true);
             b.querySelectorAll('code, #files-table').forEach(e => e.remove());
             const names = Array.from(document.querySelectorAll('[aria-label], svg title'))
               .map(e => e.getAttribute('aria-label') || e.textContent);
             return b.textContent + '\\n' + names.join('\\n'); }"""
    )
    assert re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text) == []  # no left_behind, all_london, lbn_share, pop_mean
    assert not re.search(r"\b(True|False|None|nan)\b|\['", text)
    options = page.locator("#options-table").inner_text()
    assert "North East, North West" in options and "Lab, Con" in options
    assert re.search(r"Skip rebuilding the indices\s+No", options) and "1,000" in options and "May 2020" in options
    assert "Left behind minus other deprived" in page.locator("#claimant-london-table").inner_text()
    assert "share of residents in left-behind wards" in page.locator("#corr-table").inner_text()
    # the legend counts drawn shapes only; the wards that are not drawn are named, with the reason
    legend = page.locator("#legend").inner_text()
    assert "No ward IMD" not in legend and "Not drawn: 12 wards" in legend
    note = page.locator("#no-shape").inner_text()
    assert "Frome Valley (Dorset)" in note and "Queen Thorne (Dorset)" in note and "no IMD" in note
    # ticks: steps of 1, 2 or 5 x 10^k, evenly spaced, every label different
    axes = _tick_values(page, "#scatter-chart svg, #leave-chart svg, #outcome-chart svg")
    assert len(axes) >= 4 + 20
    for ticks in axes:
        steps = [round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)]
        assert len(set(ticks)) == len(ticks) and len(set(steps)) == 1 and _is_nice(steps[0]), ticks
    assert problems == [] and outside == [], (problems, outside)
    page.close()


def test_a_ward_profile_prints_on_one_page(browser, run_out):
    import re

    page, problems, outside = open_page(browser, (run_out[0] / "report.html").as_uri(), offline=True)
    page.evaluate("window.print = () => { window.printed = true; }")  # no print dialog in the test
    page.evaluate("window.leftbehindShowProfile('E05003984', true)")
    page.click("#print-profile")
    assert page.evaluate("window.printed") is True
    page.emulate_media(media="print")
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('main > section')).filter(s => s.offsetParent !== null).map(s => s.id)"
    )
    assert shown == ["profile"]
    assert not page.locator("nav.toc").is_visible() and not page.locator("#print-profile").is_visible()
    assert page.locator("#edition").is_visible()  # the printout says which edition and run it is from
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert "print-profile" not in page.evaluate("document.body.className")
    assert problems == [] and outside == [], (problems, outside)
    page.close()
