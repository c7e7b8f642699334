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
    lsoa_before = client.get("/api/units/lsoa21")

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
    # the ready responses were rebuilt for the new run: the 2025 endpoints answer, the wards are the new ones
    assert lsoa_before.status_code == 404
    assert client.get("/api/units/lsoa21").json()["total"] == len(pd.read_csv(served / "lsoa21.csv"))
    assert client.get("/api/current/lads/E06000001").json()["area_name"] == "Hartlepool"
    ward = pd.read_csv(served / "wards.csv").set_index("ward_code").loc["E05003984"]
    assert client.get("/api/wards/E05003984").json()["imd_rank"] == int(ward["imd_rank"])


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
    # a quoted empty cell is the empty string (as written), not a missing value
    pc = pd.read_csv(run_out[0] / "published_checks.csv", keep_default_na=False)
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


# ---------------------------------------------------------------- HTTP: HEAD, 405, gzip, ETag, redirects

HEAD_URLS = [
    "/",
    "/health",
    "/api/summary",
    "/api/wards",
    "/api/wards?group=left_behind&format=csv",
    "/api/wards/E05003984",
    "/api/lads",
    "/api/lads/E07000064",
    "/api/regions",
    "/api/tables/wards?limit=3",
    "/openapi.json",
    "/api/wards/E05999999",
    "/api/wards?region=Atlantis",
    "/nowhere",
]


def _same_headers(a, b) -> dict:
    skip = {"date"}
    return {k: v for k, v in a.headers.items() if k not in skip}, {k: v for k, v in b.headers.items() if k not in skip}


@pytest.mark.parametrize("url", HEAD_URLS)
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_head_is_get_without_the_body(client, url, encoding):
    h = {"Accept-Encoding": encoding}
    g, r = client.get(url, headers=h), client.head(url, headers=h)
    assert r.status_code == g.status_code, (url, r.status_code, g.status_code)
    hg, hr = _same_headers(g, r)
    assert hr == hg, url
    assert r.content == b""
    assert int(r.headers["content-length"]) > 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("url", ["/", "/health", "/api/wards", "/api/wards/E05003984", "/api/tables"])
def test_other_methods_are_405_with_allow(client, method, url):
    r = client.request(method, url)
    assert r.status_code == 405, (method, url, r.text)
    assert r.headers["allow"] == "GET, HEAD"
    assert r.headers["content-type"].startswith("application/json") and "GET, HEAD" in r.json()["detail"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_gzip_when_asked_identity_otherwise(client):
    for url in ("/", "/api/wards?limit=200", "/api/summary", "/api/wards?format=csv&limit=100", "/openapi.json"):
        z = client.get(url, headers={"Accept-Encoding": "gzip"})
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        none = client.get(url, headers={"Accept-Encoding": ""})
        refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert z.headers["content-encoding"] == "gzip", url
        for r in (plain, none, refused):
            assert "content-encoding" not in r.headers, url
        assert z.content == plain.content == none.content, url  # httpx decompressed it
        assert int(z.headers["content-length"]) < int(plain.headers["content-length"]), url
        assert "Accept-Encoding" in z.headers["vary"] and "Accept-Encoding" in plain.headers["vary"]
    small = client.get("/health", headers={"Accept-Encoding": "gzip"})  # too small to be worth it
    assert "content-encoding" not in small.headers


def test_the_report_is_compressed_once_at_load(client):
    entry = client.app.served.run.report
    assert entry is not None and entry._gzip is not None  # ready before the first request asks
    assert len(entry._gzip) < len(entry.body) / 3


def test_etag_and_304(client):
    for url in ("/", "/api/wards/E05003984", "/api/wards?q=Sidley", "/health"):
        for enc in ("gzip", "identity"):
            r = client.get(url, headers={"Accept-Encoding": enc})
            etag = r.headers["etag"]
            assert etag.startswith('"') and etag.endswith('"'), etag
            assert r.headers["cache-control"] == "no-cache"
            again = client.get(url, headers={"Accept-Encoding": enc, "If-None-Match": etag})
            assert again.status_code == 304 and again.content == b"", (url, enc)
            assert again.headers["etag"] == etag and again.headers["X-Frame-Options"] == "DENY"
            assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
            weak = client.get(url, headers={"Accept-Encoding": enc, "If-None-Match": f'"x", W/{etag}'})
            assert weak.status_code == 304
    gz = client.get("/", headers={"Accept-Encoding": "gzip"}).headers["etag"]
    assert gz != client.get("/", headers={"Accept-Encoding": "identity"}).headers["etag"]  # two representations
    err = client.get("/api/wards/E05999999")
    assert "etag" not in err.headers and err.headers["cache-control"] == "no-store"


def test_no_redirect_is_built_from_the_host_header(client):
    evil = {"Host": "evil.example"}
    for route in client.app.routes:
        path = getattr(route, "path", "")
        for url in (path + "/", path.replace("{", "").replace("}", "") + "/", "//evil.example/", "/api//wards"):
            r = client.get(url, headers=evil, follow_redirects=False)
            assert not 300 <= r.status_code < 400, (url, r.status_code)
            assert "location" not in r.headers
            assert "evil.example" not in r.text or url.startswith("//"), url
    r = client.get("/api/wards/", headers=evil, follow_redirects=False)
    assert r.status_code == 404 and "/api/wards" in r.json()["detail"]


# ---------------------------------------------------------------- strict filters


@pytest.mark.parametrize(
    ("query", "param", "shows"),
    [
        ("region=Atlantis", "region", "North East"),
        ("group=everyone", "group", "left_behind"),
        ("group=LEFT_BEHINDX", "group", "other_deprived"),
        ("lad=E07000005", "lad", "/api/lads"),  # Chiltern: a district until 2020, not a 2024 code
        ("lad=E06999999", "lad", "/api/lads"),
        ("lad=../../etc", "lad", "/api/lads"),
        ("nonsense=1", "nonsense", "region"),
    ],
)
def test_unknown_filter_values_are_422_with_the_valid_ones(client, query, param, shows):
    r = client.get(f"/api/wards?{query}")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["parameter"] == param and shows in body["detail"]
    if param in ("region", "group"):
        assert shows in body["valid"]


def test_known_values_match_case_insensitively(client):
    a = client.get("/api/wards", params={"region": "north east", "group": "LEFT_BEHIND"}).json()
    b = client.get("/api/wards", params={"region": "E12000001", "group": "left_behind"}).json()
    assert a["total"] == b["total"] >= 50
    assert client.get("/api/wards", params={"lad": "e07000064"}).json()["total"] > 0


@pytest.mark.parametrize("param", ["q", "group", "region", "lad", "limit", "offset", "format"])
def test_an_empty_value_is_the_same_as_none(client, param):
    base = client.get("/api/wards")
    for url in (f"/api/wards?{param}=", f"/api/wards?{param}", f"/api/wards?{param}=&limit=50"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text)
        assert r.content == base.content, url


def test_empty_values_on_every_list(client_rich):
    from leftbehind.web.views import VIEWS

    for v in VIEWS:
        base = client_rich.get(v.path)
        assert base.status_code == 200, (v.path, base.text[:200])
        query = "&".join(f"{p}=" for p in v.params)
        assert client_rich.get(f"{v.path}?{query}").content == base.content, v.path


# ---------------------------------------------------------------- nothing private


def _samples(app) -> list[str]:
    """A GET URL for every route, path parameters filled from the served run."""
    from leftbehind.report.registry import registry
    from leftbehind.web.views import VIEWS_BY_PATH

    run = app.served.run
    fixed = {
        "/api/wards/{code}": ["E05003984", "E05999999"],
        "/api/lads/{code}": ["E07000064", "E06999999"],
        "/api/current/lads/{code}": ["E07000064", "E06999999"],
        "/api/spatial/clusters/{cluster_id}": ["1", "999"],
        "/api/units/{unit}": ["xyz"],
        "/api/units/{unit}/{code}": ["xyz/E01000001"],
        "/api/tables/{name}": [*registry(), "nope"],
        "/api/{section}/summary": ["robustness", "target", "history", "spatial"],
    }
    urls = []
    for route in app.routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        if "{" not in path:
            urls += [path, path + "?format=csv", path + "?q=a&limit=3"]
            continue
        values = fixed.get(path)
        if values is None:
            view = VIEWS_BY_PATH[path.rsplit("/", 1)[0]]
            t = run.tables.get(view.table)
            values = [str(t.values(view.key)[0]) if t is not None else "E01000001", "E01999999"]
        urls += [path[: path.index("{")] + v for v in values]
    return urls


def _private(run_folder, data_folder) -> list[str]:
    from pathlib import Path

    out = set()
    for p in (run_folder, data_folder, Path.home()):
        out |= {str(p), str(Path(p).resolve())}
    return sorted(out)


@pytest.mark.parametrize("which", ["client", "client_2025", "client_rich"])
def test_no_response_holds_a_local_path(request, which, shared_data):
    client = request.getfixturevalue(which)
    private = _private(client.app.served.out, shared_data)
    seen = 0
    for url in _samples(client.app):
        r = client.get(url)
        assert r.status_code in (200, 204, 404, 422), (url, r.status_code, r.text[:300])
        for p in private:
            assert p not in r.text, (url, p)
        seen += 1
    assert seen > 60
    inputs = client.get("/api/summary").json()["inputs"]
    assert inputs and all("file" not in i and i["dataset"] and len(i["sha256"]) == 64 for i in inputs)
    assert all(i["file_name"] and "/" not in i["file_name"] for i in inputs)


def test_the_503_names_only_the_folder(run_out, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(run_out[0], served)
    client = TestClient(create_app(served, ctx=RunContext()))
    shutil.rmtree(served)
    r = client.get("/api/wards")
    assert r.status_code == 503 and str(tmp_path) not in r.text and "served" in r.text
    assert r.headers["retry-after"] == "1"


# ---------------------------------------------------------------- the current edition (--edition 2025)


@pytest.fixture(scope="module")
def client_2025(run_2025):
    return TestClient(create_app(run_2025[0], ctx=RunContext()))


CURRENT_LISTS = {
    "/api/current/regions": "current/region.csv",
    "/api/current/lads": "current/lad.csv",
    "/api/units/lsoa21": "lsoa21.csv",
    "/api/units/wards24": "current/wards24.csv",
    "/api/units/msoa21": "current/msoa21.csv",
    "/api/current/certainty": "current/certainty.csv",
}


@pytest.mark.parametrize(("url", "path"), CURRENT_LISTS.items())
def test_current_lists_json_and_csv(client_2025, run_2025, url, path):
    on_disk = pd.read_csv(run_2025[0] / path)
    body = client_2025.get(url, params={"limit": 5}).json()
    assert body["total"] == len(on_disk) and len(body["items"]) == min(5, len(on_disk))
    assert list(body["items"][0]) == _header(run_2025[0] / path)
    c = client_2025.get(url, params={"format": "csv", "limit": 50_000})
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(c.text.splitlines()))
    assert rows[0] == _header(run_2025[0] / path) and len(rows) == len(on_disk) + 1
    with open(run_2025[0] / path, newline="", encoding="utf-8") as f:
        assert rows == list(csv.reader(f))  # the file, cell for cell


def test_current_units_filters_and_detail(client_2025, run_2025):
    lsoa = pd.read_csv(run_2025[0] / "lsoa21.csv")
    lb = client_2025.get("/api/units/lsoa21", params={"group": "left_behind", "region": "north east"}).json()
    assert lb["total"] == int(((lsoa["group"] == "left_behind") & (lsoa["region_name"] == "North East")).sum()) > 0
    new = client_2025.get("/api/units/lsoa21", params={"status": "new", "limit": 1}).json()
    assert new["total"] == int((lsoa["status_since_2020"] == "new").sum())
    bad = client_2025.get("/api/units/lsoa21", params={"status": "old"})
    assert bad.status_code == 422 and set(bad.json()["valid"]) == {"new", "no_longer", "persistent"}
    code = lsoa["lsoa21_code"].iloc[0]
    one = client_2025.get(f"/api/units/lsoa21/{code}").json()
    assert one["lsoa21_code"] == code and one["cni_rank"] == int(lsoa["cni_rank"].iloc[0])
    assert client_2025.get("/api/units/lsoa21/E01999999").status_code == 404
    assert client_2025.get("/api/units/lsoa21/E05003984").status_code == 422
    w24 = pd.read_csv(run_2025[0] / "current/wards24.csv")
    assert (
        client_2025.get(f"/api/units/wards24/{w24['area_code'].iloc[0]}").json()["area_name"]
        == w24["area_name"].iloc[0]
    )
    m = client_2025.get("/api/units/msoa21", params={"q": "Middlesbrough", "limit": 500}).json()
    assert m["total"] > 0 and all("middlesbrough" in (i["area_name"] + i["lad_name"]).lower() for i in m["items"])
    assert client_2025.get("/api/units/oa21").status_code == 422


def test_current_lad_detail_lists_its_lsoas(client_2025, run_2025):
    lsoa = pd.read_csv(run_2025[0] / "lsoa21.csv")
    r = client_2025.get("/api/current/lads/E06000001").json()
    assert r["area_name"] == "Hartlepool" and len(r["lsoas"]) == int((lsoa["lad_code"] == "E06000001").sum())
    assert r["lsoas_total"] == len(r["lsoas"])
    assert client_2025.get("/api/current/lads/E06999999").status_code == 404


def test_2025_endpoints_on_a_2020_run_say_which_command(client):
    for url in ("/api/units/lsoa21", "/api/units/msoa21/E02000001", "/api/current/lads", "/api/current/regions"):
        r = client.get(url)
        assert r.status_code == 404 and "--edition 2025" in r.json()["detail"], url


# ---------------------------------------------------------------- later commands: robustness, target, history, spatial

SUBCOMMAND = ("robustness/", "target/", "history/", "spatial/")


def _column_values(col, n: int, codes: dict) -> list:
    """Plausible values for a declared column: real codes and names, more than 6 decimals, a blank."""
    name, typ = col.name, col.type
    if typ == "int":
        if name == "cluster_id":
            return [1, 1, 2, 0, 0, 0][:n]
        return [i + 1 for i in range(n)]
    if typ == "float":
        return [226.0, 0.1234567891, None, 12.3456789, -0.0000004, 1e-7][:n]
    if typ == "bool":
        return [True, False, True, False, None, True][:n]
    pick = {
        "area_code": codes["area"],
        "lsoa11_code": codes["area"],
        "ward_code": codes["ward"],
        "lad_code": codes["lad"],
        "lad_name": codes["lad_name"],
        "region_name": codes["region"],
        "group": ["left_behind", "other_deprived", "rest", "left_behind", "rest", "rest"],
        "nominal_group": ["left_behind", "other_deprived", "rest", "left_behind", "rest", "rest"],
        "band": ["robust", "likely", "edge", "unlikely", "edge", "unlikely"],
        "edition": ["IMD 2004", "IMD 2010", "IMD 2025", "IMD 2004", "IMD 2010", "IMD 2025"],
        "sequence": ["2010_2019", "2010_2019", "2004_2025", "2004_2025", "2010_2019", "2004_2025"],
        "typology_2010_2019": ["entrenched deprivation", "stable middle", "", "stable middle", "x", "x"],
        "level": ["england", "region", "lad", "lad", "lad", "region"],
        "measure": ["areas", "residents", "areas", "jaccard_with_nominal", "areas", "residents"],
        "method": ["sobol", "sobol", "one_at_a_time", "one_at_a_time", "sobol", "sobol"],
        "note": ["", "island: no neighbour", "", "", "", ""],
    }
    if name in pick:
        return pick[name][:n]
    return [f"{name} {i}" for i in range(n)]


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace('"', '""') + '"'


def write_synthetic(folder, codes: dict, n: int = 6, edition: str = "2025") -> dict[str, pd.DataFrame]:
    """Small tables for every registered output of the later commands, written into their sections
    (robustness/EDITION/, target/synthetic/, history/, spatial/EDITION-UNIT/) with a section record, by hand
    (floats with 10 digits: the API must round them as the CSV writer would)."""
    from leftbehind.outdir import section_record

    unit = "lsoa21" if edition == "2025" else "ward17"
    keys = {"robustness/": edition, "target/": "synthetic", "history/": None, "spatial/": f"{edition}-{unit}"}
    written = {}
    for name, spec in registry().items():
        if spec.template or not spec.path.startswith(SUBCOMMAND):
            continue
        cols = [c for c in spec.columns if not c.is_family]
        data = {c.name: _column_values(c, n, codes) for c in cols}
        if name in ("history_wards17", "history_wards24"):
            data["ward_code"] = [codes["ward"][0]] * 3 + [codes["ward"][1]] * 3
        if name == "spatial_clusters":
            data["cluster_id"] = list(range(1, n + 1))
        kind, rest = spec.path.split("/", 1)
        key = keys[kind + "/"]
        path = folder / kind / (key or "") / rest
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [",".join(f'"{c.name}"' for c in cols)]
        lines += [",".join(_cell(data[c.name][i]) for c in cols) for i in range(n)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[name] = pd.DataFrame(data)
    for sub in SUBCOMMAND:
        kind, key = sub[:-1], keys[sub]
        rec = section_record(kind, key, edition=edition, unit=unit if kind == "spatial" else None)
        body = {"synthetic": True, "command": kind, "section": rec}
        (folder / kind / (key or "") / "summary.json").write_text(json.dumps(body))
    return written


@pytest.fixture(scope="module")
def rich_folder(run_2025, tmp_path_factory):
    """A copy of the 2025 run with every later command's tables (synthetic, small)."""
    folder = tmp_path_factory.mktemp("rich") / "out"
    shutil.copytree(run_2025[0], folder, ignore=shutil.ignore_patterns("*.sqlite", "*.xlsx"))
    lsoa = pd.read_csv(folder / "lsoa21.csv")
    wards = pd.read_csv(folder / "wards.csv")
    codes = {
        "area": lsoa["lsoa21_code"].iloc[:6].tolist(),
        "ward": wards["ward_code"].iloc[:6].tolist(),
        "lad": lsoa["lad_code"].iloc[:6].tolist(),
        "lad_name": lsoa["lad_name"].iloc[:6].tolist(),
        "region": lsoa["region_name"].iloc[:6].tolist(),
    }
    return folder, write_synthetic(folder, codes), codes


@pytest.fixture(scope="module")
def client_rich(rich_folder):
    return TestClient(create_app(rich_folder[0], ctx=RunContext()))


LATER = {
    "/api/robustness/areas": "robustness_areas",
    "/api/robustness/counts": "robustness_counts",
    "/api/robustness/list_size": "robustness_list_size",
    "/api/robustness/sensitivity": "robustness_sensitivity",
    "/api/robustness/outcomes": "robustness_outcomes",
    "/api/selection": "target_selection",
    "/api/selection/by-region": "target_by_region",
    "/api/selection/by-lad": "target_by_lad",
    "/api/selection/comparison": "target_comparison",
    "/api/selection/money-moved": "target_money_moved",
    "/api/history/lsoa11": "history_lsoa11",
    "/api/history/wards17": "history_wards17",
    "/api/history/wards24": "history_wards24",
    "/api/history/typology": "history_typology_clusters",
    "/api/spatial/global": "spatial_global",
    "/api/spatial/local": "spatial_local",
    "/api/spatial/clusters": "spatial_clusters",
}


@pytest.mark.parametrize(("url", "name"), LATER.items())
def test_later_commands_lists(client_rich, client, rich_folder, url, name):
    df = rich_folder[1][name]
    body = client_rich.get(url).json()
    assert body["total"] == len(df) and [i for i in body["items"][0]] == list(df.columns), url
    c = client_rich.get(url, params={"format": "csv"})
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    assert len(c.text.splitlines()) == len(df) + 1
    absent = client.get(url)  # the plain 2020 run has none of them: the 404 names the command
    assert absent.status_code == 404, url
    assert f"leftbehind {registry()[name].path.split('/')[0]}" in absent.json()["detail"], url


def test_later_commands_details_and_filters(client_rich, rich_folder):
    _, _, codes = rich_folder
    a = client_rich.get(f"/api/robustness/areas/{codes['area'][0]}").json()
    assert a["area_code"] == codes["area"][0] and a["band"] == "robust" and a["population"] == 226
    assert client_rich.get("/api/robustness/areas", params={"band": "edge"}).json()["total"] == 2
    assert client_rich.get("/api/robustness/areas", params={"band": "sure"}).status_code == 422
    assert client_rich.get("/api/robustness/counts", params={"level": "lad"}).json()["total"] == 3
    sel = client_rich.get("/api/selection", params={"selected": "true"}).json()
    assert sel["total"] == 3 and all(i["selected"] is True for i in sel["items"])
    assert client_rich.get("/api/selection", params={"selected": "maybe"}).status_code == 422
    assert client_rich.get(f"/api/selection/{codes['area'][1]}").json()["selected"] is False
    traj = client_rich.get(f"/api/history/wards17/{codes['ward'][0]}").json()
    assert traj["total"] == 3 and [i["edition"] for i in traj["items"]] == ["IMD 2004", "IMD 2010", "IMD 2025"]
    tcsv = client_rich.get(f"/api/history/wards17/{codes['ward'][0]}", params={"format": "csv"})
    assert len(tcsv.text.splitlines()) == 4
    assert client_rich.get("/api/history/wards17", params={"edition": "imd 2025"}).json()["total"] == 2
    lsoa = client_rich.get(f"/api/history/lsoa11/{codes['area'][0]}").json()
    assert lsoa["typology_2010_2019"] == "entrenched deprivation"
    ent = client_rich.get("/api/history/lsoa11", params={"typology": "Entrenched Deprivation"}).json()
    assert ent["total"] == 1
    assert client_rich.get("/api/spatial/local", params={"cluster": 1}).json()["total"] == 2
    assert client_rich.get("/api/spatial/local", params={"cluster": "one"}).status_code == 422
    assert client_rich.get("/api/spatial/local", params={"significant": "false"}).json()["total"] == 2
    cl = client_rich.get("/api/spatial/clusters/1").json()
    assert cl["cluster_id"] == 1 and len(cl["areas"]) == 2
    assert client_rich.get("/api/spatial/clusters/99").status_code == 404
    for section in ("robustness", "target", "history", "spatial"):
        assert client_rich.get(f"/api/{section}/summary").json()["command"] == section


# ---------------------------------------------------------------- one data contract


def _check_value(where, value, typ):
    if value is None:
        return
    if typ == "int":
        assert type(value) is int, (where, value)
    elif typ == "bool":
        assert type(value) is bool, (where, value)
    elif typ in ("str", "date"):
        assert type(value) is str, (where, value)
    elif typ == "float":
        assert type(value) in (int, float) and type(value) is not bool, (where, value)
        if type(value) is float:
            assert not value.is_integer(), (where, value)  # written 226, as in the CSV
            assert round(value, 6) == value, (where, value)


@pytest.mark.parametrize("which", ["client", "client_rich"])
def test_every_table_keeps_its_declared_types(request, which):
    client = request.getfixturevalue(which)
    reg = registry()
    tables = client.get("/api/tables").json()["items"]
    assert tables
    for t in tables:
        types = {c["name"]: c["type"] for c in t["columns"]}
        for item in client.get(f"/api/tables/{t['name']}", params={"limit": 2000}).json()["items"]:
            for k, v in item.items():
                _check_value((t["name"], k), v, types[k])
        assert set(types) <= {c for c in types if reg[t["name"]].column(c)}


def test_numbers_are_rounded_as_the_csv_writer_rounds(client_rich):
    item = client_rich.get("/api/robustness/list_size").json()["items"]
    shares = [i["share"] for i in item]
    assert shares[:2] == [226, 0.123457] and shares[2] is None and shares[3] == 12.345679
    assert shares[4] == 0 and shares[5] == 0  # -4e-7 and 1e-7 at 6 decimals
    c = client_rich.get("/api/robustness/list_size", params={"format": "csv"}).text.splitlines()
    assert [r.split(",")[-1] for r in c[1:4]] == ["226", "0.123457", ""]


def test_counts_are_integers_and_flags_booleans(client):
    w = client.get("/api/wards/E05003984").json()
    assert type(w["cni_rank"]) is int and type(w["imd_rank"]) is int and type(w["left_behind_published_2020"]) is bool
    claims = client.get("/api/tables/claims").json()["items"]
    first = next(c for c in claims if c["claim_id"] == "list_2020")
    assert first["ours"] == 226 and type(first["ours"]) is int and first["edition"] == "2020"
    region = client.get("/api/regions").json()["items"][0]
    assert all(type(v) is int for k, v in region.items() if k.startswith("wards_"))


# ---------------------------------------------------------------- the fast path answers as the framework does


def test_ready_responses_are_what_the_endpoints_compute(client):
    from leftbehind.web import views

    run = client.app.served.run
    for code in ("E05003984", "E05000026", run.tables["wards"].values("ward_code")[-1]):
        assert run.static[(f"/api/wards/{code}", b"")].body == views.ward_detail(run, code).body
    assert run.static[("/api/lads/E07000064", b"")].body == views.lad_detail(run, "E07000064").body
    view = views.VIEWS_BY_PATH["/api/wards"]
    assert run.static[("/api/wards", b"")].body == views.render_list(run, view, {}).body
    # and through the framework (a query string the ready responses do not hold)
    via = client.get("/api/wards", params={"limit": 50, "offset": 0}).content
    assert via == client.get("/api/wards").content


def test_remembered_responses_are_bounded(run_out, tmp_path, monkeypatch):
    import leftbehind.web.app as web

    monkeypatch.setattr(web, "CACHE_MAX_ENTRIES", 5)
    c = TestClient(create_app(run_out[0], ctx=RunContext()))
    for i in range(20):
        assert c.get("/api/wards", params={"q": f"a{i}"}).status_code == 200
    run = c.app.served.run
    assert len(run.cache) == 5 and run.cache_bytes == sum(len(e.body) for e in run.cache.values())


def test_later_outputs_appear_without_a_restart(run_out, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(run_out[0], served, ignore=shutil.ignore_patterns("*.sqlite"))
    client = TestClient(create_app(served, ctx=RunContext()))
    assert client.get("/api/spatial/clusters").status_code == 404
    wards = pd.read_csv(served / "wards.csv")
    codes = {
        "area": wards["ward_code"].iloc[:6].tolist(),
        "ward": wards["ward_code"].iloc[:6].tolist(),
        "lad": wards["lad_code"].iloc[:6].tolist(),
        "lad_name": wards["lad_name"].iloc[:6].tolist(),
        "region": wards["region_name"].iloc[:6].tolist(),
    }
    staging = tmp_path / "staging"
    write_synthetic(staging, codes, edition="2020")
    os.replace(staging / "spatial", served / "spatial")  # as `leftbehind spatial` swaps a section in
    r = client.get("/api/spatial/clusters")
    assert r.status_code == 200 and r.json()["total"] == 6
    assert client.get("/api/spatial/summary").json()["command"] == "spatial"


# ---------------------------------------------------------------- leftbehind serve --workers


def test_serve_with_two_workers_answers_small_requests_without_the_delayed_ack(run_out, tmp_path):
    """Two worker processes share one socket; each keep-alive request is answered in a few ms (a socket
    without TCP_NODELAY makes every small response wait for the client's delayed ACK, ~40 ms)."""
    import http.client
    import socket
    import statistics
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    log = (tmp_path / "serve.log").open("w+b")
    cmd = [sys.executable, "-m", "leftbehind.cli", "serve", "--out", str(run_out[0]), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2"],
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                assert conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            conn.request("GET", "/api/wards/E05003984", headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            body = r.read()
            times.append(time.perf_counter() - t0)
            assert r.status == 200 and r.getheader("content-encoding") == "gzip" and body
        assert statistics.median(times) < 0.02, times
        conn.request("HEAD", "/")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"" and int(r.getheader("content-length")) > 100_000
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
    assert "2 workers" in output and "Traceback" not in output, output


# ---------------------------------------------------------------- repeated parameters, the Host header (issue 19)


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/wards?region=North+East&region=London", "region"),
        ("/api/wards?limit=5&limit=6", "limit"),
        ("/api/wards?limit=5&limit=5", "limit"),
        ("/api/wards?group=left_behind&q=a&group=rest", "group"),
        ("/api/wards?format=json&format=csv", "format"),
        ("/api/lads?offset=1&offset=2", "offset"),
        ("/api/tables/wards?limit=1&limit=2", "limit"),
    ],
)
def test_a_repeated_parameter_is_422_naming_it(client, url, param):
    for _ in range(2):  # the second answer comes from the remembered responses
        r = client.get(url)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["parameter"] == param and f"parameter {param!r} is given" in body["detail"]
        assert "give it once" in body["detail"]


def test_an_empty_repeat_is_the_same_as_none(client):
    """Empty values are dropped before the check (an empty value is the same as none)."""
    assert (
        client.get("/api/wards?region=&region=north+east").json() == client.get("/api/wards?region=north+east").json()
    )


def test_allowed_hosts_of_an_address():
    from leftbehind.web.app import allowed_hosts, host_allowed, host_name

    assert host_name("[::1]:8000") == "::1" and host_name("LocalHost.:80") == "localhost"
    assert host_name("127.0.0.1:8000") == "127.0.0.1" and host_name("[0:0::1]") == "::1"
    loop = allowed_hosts("127.0.0.1")
    assert loop == {"127.0.0.1", "localhost", "::1"} == allowed_hosts("localhost") == allowed_hosts("::1")
    for ok in (b"127.0.0.1", b"127.0.0.1:8000", b"localhost", b"localhost:8000", b"[::1]", b"[::1]:8000", None):
        assert host_allowed(ok, loop), ok
    for bad in (b"evil.example", b"evil.example:8000", b"localhost.evil.example", b"192.168.1.5", b"", b"[::2]"):
        assert not host_allowed(bad, loop), bad
    lan = allowed_hosts("192.168.1.5")
    assert host_allowed(b"192.168.1.5:8000", lan) and not host_allowed(b"localhost", lan)
    assert host_allowed(b"proxy.example", allowed_hosts("127.0.0.1", ["Proxy.Example", ""]))
    anywhere = allowed_hosts("0.0.0.0")
    assert host_allowed(b"10.1.2.3:8000", anywhere) and host_allowed(b"[fe80::1]", anywhere)
    assert host_allowed(b"localhost", anywhere) and not host_allowed(b"evil.example", anywhere)


def test_serve_passes_the_bound_host_and_the_extra_names(monkeypatch):
    from leftbehind.serve import HOSTS_ENV, hosts_for

    monkeypatch.delenv(HOSTS_ENV, raising=False)
    assert hosts_for("127.0.0.1") == ["127.0.0.1", "::1", "localhost"]
    monkeypatch.setenv(HOSTS_ENV, "lb.example, other.example:8080")
    assert hosts_for("10.0.0.7") == ["10.0.0.7", "lb.example", "other.example"]


def test_a_request_for_another_host_is_400(client, monkeypatch):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 cannot read the API."""
    from leftbehind.web.app import allowed_hosts

    assert client.app.allowed_hosts is None  # the default (the test client's Host is 'testserver')
    monkeypatch.setattr(client.app, "allowed_hosts", allowed_hosts("127.0.0.1"))
    for host in ("127.0.0.1:8000", "127.0.0.1", "localhost:8000", "localhost", "[::1]:8000", "[::1]"):
        for url in ("/health", "/api/wards?limit=1", "/"):
            r = client.get(url, headers={"Host": host})
            assert r.status_code == 200, (host, url, r.status_code)
    for host in ("evil.example", "evil.example:8000", "testserver", "localhost.evil.example", "10.0.0.1"):
        for method, url in (("GET", "/health"), ("GET", "/api/wards/E05003984"), ("HEAD", "/"), ("POST", "/")):
            r = client.request(method, url, headers={"Host": host})
            assert r.status_code == 400, (host, url, r.status_code)
            for k, v in SECURITY_HEADERS.items():
                assert r.headers[k] == v
            if method != "HEAD":
                body = r.json()
                assert body["parameter"] == "Host" and repr(host) in body["detail"]
                assert "DNS rebinding" in body["detail"] and "127.0.0.1" in body["detail"]
