"""The served app's API with the framework's test client, including hostile inputs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from leftbehind.context import RunContext
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


@pytest.mark.parametrize("q", ["<script>alert(1)</script>", "St Matthew's", "'; DROP TABLE wards; --", "%00", "ä€🙂"])
def test_hostile_search_text_is_data(client, q):
    r = client.get("/api/wards", params={"q": q})
    assert r.status_code == 200
    assert r.json()["total"] >= 0


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
