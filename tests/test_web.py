"""The served app's API with the framework's test client, including hostile inputs."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from leftbehind.context import RunContext
from leftbehind.report.registry import TYPES, registry
from leftbehind.web.app import SECURITY_HEADERS, create_app


@pytest.fixture(scope="module")
def client(run_out):
    return TestClient(create_app(run_out[0], ctx=RunContext()))


def test_health_and_summary(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["wards"] == 7_433
    s = client.get("/api/summary").json()
    assert s["groups"]["left_behind"]["wards"] >= 219
    assert s["cut_off"]["cutoff_rank"] == 743 and s["inputs"]


def test_ward_search_and_filters(client):
    r = client.get("/api/wards", params={"q": "Sidley"}).json()
    assert r["total"] == 1 and r["items"][0]["ward_code"] == "E05003984"
    lb = client.get("/api/wards", params={"group": "left_behind", "limit": 1000}).json()
    assert lb["total"] == len(lb["items"]) and all(i["group"] == "left_behind" for i in lb["items"])
    ne = client.get("/api/wards", params={"region": "north east", "group": "left_behind", "limit": 1}).json()
    assert ne["total"] >= 50 and len(ne["items"]) == 1
    page2 = client.get("/api/wards", params={"limit": 10, "offset": 10}).json()
    assert page2["offset"] == 10 and len(page2["items"]) == 10
    lad = client.get("/api/wards", params={"lad": "E07000064"}).json()
    assert all(i["lad_code"] == "E07000064" for i in lad["items"]) and lad["total"] > 0
    csv = client.get("/api/wards", params={"group": "left_behind", "format": "csv", "limit": 3})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("ward_code,ward_name") and len(csv.text.splitlines()) == 4


def test_one_ward_and_one_lad(client):
    w = client.get("/api/wards/E05003984").json()
    assert w["ward_name"] == "Sidley" and w["indicators"]["income_deprived"] > 0
    lad = client.get("/api/lads/E07000064").json()
    assert lad["area_name"] == "Rother" and any(x["ward_code"] == "E05003984" for x in lad["wards"])
    assert client.get("/api/regions").json()["items"][0]["area_code"].startswith("E12")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/wards/E05999999", 404),
        ("/api/lads/E06999999", 404),
        ("/api/wards/not-a-code", 422),
        ("/api/wards/E05003984'%20OR%201=1", 422),
        ("/api/lads/<script>", 422),
        ("/api/wards?limit=0", 422),
        ("/api/wards?limit=100000", 422),
        ("/api/wards?offset=-1", 422),
        ("/api/wards?group=everyone", 422),
        ("/api/wards?format=xml", 422),
        ("/api/wards?lad=../../etc", 422),
        ("/api/wards?q=" + "x" * 500, 422),
        ("/../../etc/passwd", 404),
        ("/static/../../pyproject.toml", 404),
        ("/api/wards/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404),
        ("/nowhere", 404),
    ],
)
def test_bad_requests_get_json_errors_never_500(client, url, status):
    r = client.get(url)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json() and r.json()["detail"]


@pytest.fixture(scope="module")
def wards_csv(run_out) -> pd.DataFrame:
    return pd.read_csv(run_out[0] / "wards.csv", dtype=str, keep_default_na=False)


def _wards_containing(wards: pd.DataFrame, q: str) -> int:
    """Wards whose name, code or LAD name contains ``q`` as plain text, ignoring case."""
    hit = pd.Series(False, index=wards.index)
    for col in ("ward_name", "ward_code", "lad_name"):
        hit |= wards[col].str.casefold().str.contains(q.casefold(), regex=False)
    return int(hit.sum())


SCRIPT_PAYLOADS = ["<script>alert(1)</script>", "'; DROP TABLE wards; --", "%00", "\x00", "ä€🙂"]


@pytest.mark.parametrize("q", [*SCRIPT_PAYLOADS, "St Matthew's", ".*", "[a-z]+", "(", "\\d", "sidley", "SIDLEY"])
def test_hostile_search_text_is_data(client, wards_csv, q):
    """Search text is matched literally (never as a regex or SQL), case-insensitively: the total
    is the number of wards whose name, code or LAD name contain it, computed here from wards.csv."""
    r = client.get("/api/wards", params={"q": q, "limit": 1000})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    expected = _wards_containing(wards_csv, q)
    assert body["total"] == expected
    assert len(body["items"]) == expected
    if q in SCRIPT_PAYLOADS or q in (".*", "[a-z]+", "\\d"):
        assert body["total"] == 0  # no ward name holds markup, SQL or regex syntax
    for item in body["items"]:
        assert any(q.casefold() in item[f].casefold() for f in ("ward_name", "ward_code", "lad_name")), item


def test_search_does_not_match_across_fields(client, wards_csv):
    q = "y e05"  # the end of a name ending in y, a space, the start of a ward code
    assert _wards_containing(wards_csv, q) == 0
    assert client.get("/api/wards", params={"q": q}).json()["total"] == 0


def test_search_finds_names_with_apostrophes(client, wards_csv):
    named = wards_csv[wards_csv["ward_name"].str.contains("St Matthew's", regex=False)]
    assert len(named) >= 1  # the data holds such wards (Walsall, Preston)
    r = client.get("/api/wards", params={"q": "St Matthew's"}).json()
    assert set(named["ward_code"]) <= {i["ward_code"] for i in r["items"]}
    assert all("st matthew's" in i["ward_name"].lower() for i in r["items"])


def test_security_headers_everywhere(client):
    for url in ("/", "/health", "/api/wards", "/api/wards/E05999999"):
        r = client.get(url)
        for k, v in SECURITY_HEADERS.items():
            assert r.headers[k] == v, (url, k)
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_openapi_schema(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/summary", "/api/wards", "/api/wards/{code}", "/api/lads/{code}", "/health"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 404  # the docs page would load assets from a CDN


def test_report_page_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="map"' in r.text and "http://" not in r.text and "https://" not in r.text


def test_missing_run_folder_is_a_clear_error(tmp_path):
    from leftbehind.errors import UsageError

    with pytest.raises(UsageError, match="holds no finished run"):
        create_app(tmp_path, ctx=RunContext())


# ---------------------------------------------------------------- a re-run of the served folder


def _swap_in(src, served):
    """Replace ``served`` by a copy of ``src`` the way a re-run does (atomic_dir): build the new
    contents in a sibling, move the old folder aside, move the new one in, delete the old."""
    new, old = served.with_name(served.name + ".new"), served.with_name(served.name + ".old")
    shutil.copytree(src, new)
    os.replace(served, old)
    yield  # the folder is missing here
    os.replace(new, served)
    shutil.rmtree(old)


def test_a_rerun_of_the_served_folder_is_picked_up(run_out, run_2025, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(run_out[0], served)
    client = TestClient(create_app(served, ctx=RunContext()))
    h1 = client.get("/health").json()
    s1 = client.get("/api/summary").json()
    assert h1["status"] == "ok" and h1["edition"] == "2020" and s1["options"]["edition"] == "2020"
    report_2020 = client.get("/").text
    tables_2020 = {t["name"] for t in client.get("/api/tables").json()["items"]}

    swap = _swap_in(run_2025[0], served)
    next(swap)  # the old folder moved aside, the new one not yet in place
    assert not served.exists()
    for url in ("/health", "/api/summary", "/api/wards", "/api/wards/E05003984", "/api/tables", "/"):
        r = client.get(url)
        assert r.status_code == 503, (url, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/json")
        assert "served" in r.json()["detail"] and "retry" in r.json()["detail"]
        assert r.headers["X-Frame-Options"] == "DENY"  # the security headers stay on errors
    with pytest.raises(StopIteration):
        next(swap)

    h2 = client.get("/health").json()
    assert h2["status"] == "ok"
    assert h2["run_id"] != h1["run_id"]
    assert h2["run_id"] == hashlib.sha256((served / "summary.json").read_bytes()).hexdigest()[:16]
    assert h2["edition"] == "2025"
    s2 = client.get("/api/summary").json()
    assert s2["options"]["edition"] == "2025"
    on_disk = json.loads((served / "summary.json").read_text(encoding="utf-8"))
    assert s2["options"] == on_disk["options"] and s2["groups"] == on_disk["groups"]
    w = client.get("/api/wards", params={"q": "Sidley"})
    assert w.status_code == 200 and w.json()["total"] == 1
    assert client.get("/api/wards").json()["total"] == len(pd.read_csv(served / "wards.csv"))
    # every endpoint serves the new run, the report and the table list included
    page = client.get("/")
    assert page.status_code == 200 and page.text == (served / "report.html").read_text(encoding="utf-8")
    assert page.text != report_2020
    tables_2025 = {t["name"] for t in client.get("/api/tables").json()["items"]}
    assert "current_region" in tables_2025 and "current_region" not in tables_2020


def test_a_served_folder_with_a_broken_rerun_is_503_not_stale(run_out, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(run_out[0], served)
    client = TestClient(create_app(served, ctx=RunContext()))
    assert client.get("/health").status_code == 200
    (served / "summary.json").write_text("{not json", encoding="utf-8")  # replaced by something unreadable
    for url in ("/health", "/api/summary", "/api/wards"):
        r = client.get(url)
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/json"), url
    (served / "summary.json").unlink()
    assert client.get("/api/summary").status_code == 503
    shutil.copyfile(run_out[0] / "summary.json", served / "summary.json")  # restored: served again
    assert client.get("/health").json()["status"] == "ok"


# ---------------------------------------------------------------- /api/tables


def _csv_tables(folder) -> dict[str, object]:
    """The registry tables that have a file in the run folder."""
    return {n: t for n, t in registry().items() if not t.template and (folder / t.path).is_file()}


def _header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def test_api_tables_lists_every_table_with_its_columns(client, run_out):
    r = client.get("/api/tables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    items = {t["name"]: t for t in r.json()["items"]}
    on_disk = _csv_tables(run_out[0])
    assert set(items) == set(on_disk)
    assert {"wards", "published_checks"} <= set(items)
    for name, t in items.items():
        path = run_out[0] / on_disk[name].path
        assert t["path"] == on_disk[name].path and t["title"] and t["description"]
        assert t["rows"] == len(pd.read_csv(path)), name
        assert [c["name"] for c in t["columns"]] == _header(path), name
        for c in t["columns"]:
            assert c["type"] in TYPES, (name, c)
            assert isinstance(c["unit"], str), (name, c)
            assert isinstance(c["description"], str) and c["description"].strip(), (name, c)
    units = {c["name"]: c["unit"] for c in items["wards"]["columns"]}
    assert units["population"] and units["ward_code"] != units["population"]


def test_api_table_rows_json_and_csv(client, run_out):
    for name, spec in _csv_tables(run_out[0]).items():
        path = run_out[0] / spec.path
        df = pd.read_csv(path)
        r = client.get(f"/api/tables/{name}", params={"limit": 5})
        assert r.status_code == 200, (name, r.text[:200])
        body = r.json()
        assert body["total"] == len(df), name
        assert len(body["items"]) == min(5, len(df))
        if body["items"]:
            assert list(body["items"][0]) == _header(path), name
        c = client.get(f"/api/tables/{name}", params={"format": "csv", "limit": 3})
        assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv"), name
        lines = c.text.splitlines()
        assert next(csv.reader(lines[:1])) == _header(path), name


def test_api_table_values_and_paging_match_the_csv(client, run_out):
    pc = pd.read_csv(run_out[0] / "published_checks.csv")
    body = client.get("/api/tables/published_checks", params={"limit": 50_000}).json()
    assert body["total"] == len(pc) == len(body["items"])
    got = pd.DataFrame(body["items"], columns=pc.columns)
    pd.testing.assert_frame_equal(got, pc, check_dtype=False)
    wards = pd.read_csv(run_out[0] / "wards.csv")
    page = client.get("/api/tables/wards", params={"limit": 7, "offset": 100}).json()
    assert page["total"] == len(wards) and page["offset"] == 100
    assert [i["ward_code"] for i in page["items"]] == wards["ward_code"].iloc[100:107].tolist()
    tail = client.get("/api/tables/wards", params={"offset": len(wards) - 2}).json()
    assert len(tail["items"]) == 2


@pytest.mark.parametrize("name", ["nope", "index", "economy_claimants", "wards2"])
def test_api_table_unknown_is_404_json(client, name):
    r = client.get(f"/api/tables/{name}")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/json") and name in r.json()["detail"]


@pytest.mark.parametrize(
    "name", ["Wards", "wards.csv", "wards;drop", "war%20ds", "%2e%2e", "<script>", "w" * 41, "wards%00"]
)
def test_api_table_bad_name_is_422(client, name):
    r = client.get(f"/api/tables/{name}")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/json") and r.json()["detail"]


@pytest.mark.parametrize("query", ["limit=0", "limit=50001", "offset=-1", "format=xml"])
def test_api_table_bad_parameters_are_422(client, query):
    r = client.get(f"/api/tables/wards?{query}")
    assert r.status_code == 422 and r.json()["detail"]
