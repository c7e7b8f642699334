"""Economy and politics: the Nomis client and the CJRS reader against a loopback HTTP server
(fixtures written from the documented formats), and the politics tables on the real data."""

from __future__ import annotations

import http.server
import io
import json
import threading
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from leftbehind.data.cjrs import CJRSError, fetch_cjrs, read_cjrs
from leftbehind.data.nomis import NomisClient, NomisError, check_month

HEADER = "DATE,DATE_NAME,GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE,RECORD_COUNT"
AREAS = [
    ("E01000001", "City of London 001A", 15),
    ("E01000002", "City of London 001B", 10),
    ("E01000003", "City of London 001C", 20),
    ("E01000005", "City of London 001E", 35),
    ("E01032739", "City of London 001F", 5),
]


class NomisHandler(http.server.BaseHTTPRequestHandler):
    """Serves NM_162_1 CSV pages as the Nomis API documents them (RecordOffset / RecordLimit)."""

    mode = "ok"
    requests: list[str] = []

    def log_message(self, *a):
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        NomisHandler.requests.append(self.path)
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        mode = NomisHandler.mode
        if not u.path.endswith("/dataset/NM_162_1.data.csv"):
            return self._send(404, "not found")
        if mode == "http500":
            return self._send(500, "server error")
        if mode == "empty":
            return self._send(200, "")
        if mode == "html":
            return self._send(200, "<html><body>Service unavailable</body></html>")
        month, off, lim = q["date"], int(q["RecordOffset"]), int(q["RecordLimit"])
        rows = AREAS[off : off + lim]
        if mode == "truncated" and off >= 2:
            rows = []
        if mode == "badcode":
            rows = [("X99", "?", 1)]
        if mode == "badvalue":
            rows = [(AREAS[0][0], AREAS[0][1], "-")]
        body = [HEADER] + [f'{month},"May 2020",{c},"{n}",{v},{len(AREAS)}' for c, n, v in rows]
        return self._send(200, "\n".join(body) + "\n")

    def _send(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def nomis(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NomisHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    NomisHandler.mode, NomisHandler.requests = "ok", []
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v01"
    yield lambda **kw: NomisClient(base_url=base, cache=tmp_path / "cache", **kw)
    server.shutdown()
    server.server_close()


def test_nomis_url_is_the_documented_request(tmp_path):
    url = NomisClient(cache=tmp_path).url("2020-05")
    q = parse_qs(urlparse(url).query)
    assert url.startswith("https://www.nomisweb.co.uk/api/v01/dataset/NM_162_1.data.csv?")
    assert q["geography"] == ["TYPE298"] and q["date"] == ["2020-05"] and q["measures"] == ["20100"]
    assert q["gender"] == ["0"] and q["age"] == ["0"] and q["measure"] == ["1"] and q["RecordOffset"] == ["0"]


def test_nomis_pages_parses_and_caches(nomis):
    client = nomis(page_size=2)
    cc = client.claimant_count("2020-05")
    assert cc["geography_code"].tolist() == [a[0] for a in AREAS]
    assert cc["claimants"].tolist() == [a[2] for a in AREAS]
    assert len(NomisHandler.requests) == 3  # 2 + 2 + 1 rows
    offsets = [parse_qs(urlparse(r).query)["RecordOffset"][0] for r in NomisHandler.requests]
    assert offsets == ["0", "2", "4"]
    NomisHandler.mode = "http500"  # a second request is served from the cache, no network
    again = nomis(page_size=2).claimant_count("2020-05")
    pd.testing.assert_frame_equal(again, cc)
    assert nomis(page_size=2, offline=True).cached("2020-05")


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("http500", "HTTP 500"),
        ("empty", "empty answer"),
        ("html", "lacks column"),
        ("truncated", "cut short"),
        ("badcode", "unexpected area code"),
        ("badvalue", "non-numeric"),
    ],
)
def test_nomis_errors_are_clear(nomis, mode, fragment):
    NomisHandler.mode = mode
    with pytest.raises(NomisError, match=fragment) as exc:
        nomis(page_size=2).claimant_count("2020-05")
    assert "Traceback" not in str(exc.value)


def test_nomis_unreachable_offline_and_bad_month(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NomisError, match="could not reach Nomis"):
        NomisClient(base_url=f"http://127.0.0.1:{port}", cache=tmp_path).claimant_count("2020-05")
    with pytest.raises(NomisError, match="offline"):
        NomisClient(cache=tmp_path, offline=True).claimant_count("2020-05")
    for bad in ("2020-5", "May 2020", "2020-13"):
        with pytest.raises(NomisError, match="YYYY-MM"):
            check_month(bad)


def cjrs_workbook(take_up_as_fraction: bool = False) -> bytes:
    """An HMRC-style CJRS workbook: a cover sheet, then a constituency sheet with title and
    note rows above the header, suppressed and comma-formatted values."""
    buf = io.BytesIO()
    rows = [
        ["Coronavirus Job Retention Scheme statistics"],
        ["Table 8: employments furloughed by constituency"],
        ["Figures are rounded to the nearest 100; [x] = suppressed"],
        [],
        [
            "Parliamentary Constituency code",
            "Parliamentary Constituency name",
            "Employments furloughed",
            "Eligible employments",
            "Take-up rate",
        ],
        ["E14000530", "Aldershot", "4,500", "38,000", 0.12 if take_up_as_fraction else "12%"],
        ["E14000531", "Aldridge-Brownhills", "[x]", "24,100", "[x]"],
        ["W07000049", "Aberavon", "2,800", "26,600", 0.11 if take_up_as_fraction else "11%"],
        ["Total", "", "7,300", "88,700", ""],
    ]
    rows = [r + [None] * (5 - len(r)) for r in rows]
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
        pd.DataFrame([["Cover"], ["Contents"]]).to_excel(xl, sheet_name="Cover", header=False, index=False)
        pd.DataFrame(rows).to_excel(xl, sheet_name="8. Parliamentary Constituency", header=False, index=False)
    return buf.getvalue()


def test_cjrs_reader_finds_the_table():
    t = read_cjrs(cjrs_workbook(), "pcon")
    assert t["area_code"].tolist() == ["E14000530", "E14000531", "W07000049"]
    assert t["furloughed"].tolist()[0] == 4500 and pd.isna(t["furloughed"].iloc[1])
    assert t["take_up_pct"].iloc[0] == pytest.approx(12.0)
    t2 = read_cjrs(cjrs_workbook(take_up_as_fraction=True), "pcon")
    assert t2["take_up_pct"].iloc[2] == pytest.approx(11.0)


def test_cjrs_fetch_from_loopback_and_errors(tmp_path):
    book = cjrs_workbook()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            if self.path == "/cjrs.xlsx":
                body, code = book, 200
            elif self.path == "/junk.xlsx":
                body, code = b"not a workbook", 200
            else:
                body, code = b"", 404
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        t = fetch_cjrs(f"{base}/cjrs.xlsx", "pcon", cache=tmp_path)
        assert len(t) == 3
        with pytest.raises(CJRSError, match="HTTP 404"):
            fetch_cjrs(f"{base}/missing.xlsx", cache=tmp_path)
        with pytest.raises(CJRSError, match="not a readable .xlsx"):
            fetch_cjrs(f"{base}/junk.xlsx", cache=tmp_path)
        with pytest.raises(CJRSError, match="no lad table"):
            read_cjrs(book, "lad")
    finally:
        server.shutdown()
        server.server_close()


def test_cjrs_command_reads_a_workbook_into_a_csv(tmp_path):
    """`leftbehind data cjrs FILE --out CSV`: the reader's entry point, and its errors."""
    from typer.testing import CliRunner

    from leftbehind.cli import app

    book = tmp_path / "cjrs.xlsx"
    book.write_bytes(cjrs_workbook())
    res = CliRunner().invoke(app, ["data", "cjrs", str(book), "--out", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "c.csv")
    assert t["area_code"].tolist() == ["E14000530", "E14000531", "W07000049"]
    res = CliRunner().invoke(app, ["data", "cjrs", str(book), "--level", "lad", "--out", str(tmp_path / "d.csv")])
    assert res.exit_code == 2 and "no lad table" in res.output and not (tmp_path / "d.csv").exists()
    res = CliRunner().invoke(app, ["data", "cjrs", str(tmp_path / "none.xlsx"), "--out", str(tmp_path / "e.csv")])
    assert res.exit_code == 2 and "not found" in res.output


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def outputs(run_out):
    out = run_out[0]
    return out, json.loads((out / "summary.json").read_text())


def test_constituency_table(outputs, shared_data):
    out, summary = outputs
    c = pd.read_csv(out / "constituencies.csv")
    assert list(c.columns) == [
        "pcon_code",
        "pcon_name",
        "region_name",
        "lbn_wards",
        "lbn_population",
        "population",
        "lbn_share",
        "cni_score_mean",
        "imd_score_mean",
        "leave_share_est",
        "winner_2017",
        "winner_2019",
        "red_wall",
    ]
    assert len(c) == 533 and c["pcon_code"].str.startswith("E14").all()
    assert c["lbn_wards"].sum() == summary["groups"]["left_behind"]["wards"]
    assert c["population"].sum() == pytest.approx(sum(g["population"] for g in summary["groups"].values()), rel=1e-6)
    assert c["leave_share_est"].between(0.2, 0.8).all()


def test_red_wall_count_matches_the_election_results(outputs, shared_data):
    """Independently from the raw House of Commons Library files: Labour 2017, Conservative 2019,
    North, Midlands or Wales."""
    out, summary = outputs
    g17 = pd.read_csv(shared_data / "elections/HoC-GE2017-constituency-results.csv")
    g19 = pd.read_csv(shared_data / "elections/HoC-GE2019-results-by-constituency.csv")
    m = g17[["ons_id", "first_party"]].merge(g19[["ons_id", "first_party", "region_name"]], on="ons_id")
    regions = {"North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands", "Wales"}
    rw = m[(m["first_party_x"] == "Lab") & (m["first_party_y"] == "Con") & m["region_name"].isin(regions)]
    pol = summary["politics"]
    assert pol["red_wall_seats_uk"] == len(rw)
    assert pol["red_wall_seats_england"] == int(rw["ons_id"].str.startswith("E").sum())
    c = pd.read_csv(out / "constituencies.csv")
    assert set(c.loc[c["red_wall"], "pcon_code"]) == set(rw.loc[rw["ons_id"].str.startswith("E"), "ons_id"])
    assert (
        pol["lbn_wards_in_red_wall_seats"] + pol["lbn_wards_in_other_seats"]
        == summary["groups"]["left_behind"]["wards"]
    )


def test_correlations_have_n_and_intervals(outputs, ctx):
    out, _ = outputs
    r = pd.read_csv(out / "politics" / "correlations.csv")
    assert set(r["level"]) == {"constituency", "local authority"}
    assert set(r["method"]) == {"pearson", "spearman"}
    assert (r.loc[r["level"] == "constituency", "n"] == 533).all()
    assert (r.loc[r["level"] == "local authority", "n"] > 290).all()
    assert ((r["ci_low"] <= r["r"]) & (r["r"] <= r["ci_high"])).all()
    from leftbehind.analysis.politics import lad_leave

    assert lad_leave(ctx)["counting_areas"].sum() == 326  # the English counting areas of the 382
    lad = pd.read_csv(out / "politics" / "local_authorities.csv")
    # City of London and the Isles of Scilly have no CNI wards, so no row here
    assert lad["counting_areas"].sum() == 324 and len(lad) == 294


def test_economy_outputs_offline(outputs):
    out, summary = outputs
    cc = summary["economy"]["claimant_count"]
    # the test session's cache is empty (conftest), so the month is never there: the run says so
    # and how to fetch it, and writes no claimant table rather than an empty one
    assert cc["available"] is False and cc["month"] == "2020-05"
    assert cc["how_to_fetch"] == "leftbehind claimants fetch --month 2020-05"
    assert not (out / "economy" / "claimants.csv").exists()
    london = pd.read_csv(out / "economy" / "claimants_london.csv")
    oct20 = london[london["measure"].str.contains("2020-10")].set_index("group")["estimate"]
    assert oct20["all_london"] == pytest.approx(457_875 / 5_726_445 * 100, rel=1e-6)  # SOURCES.md totals
    f = pd.read_csv(out / "economy" / "furlough.csv")
    assert set(f["level"]) == {"constituency", "local authority"}
    allc = f[(f["level"] == "constituency") & (f["band"] == "all")].iloc[0]
    assert allc["areas"] == 533 and allc["furloughed"] == 3_406_700  # SOURCES.md: England 3,406,700


def test_claimant_rates_from_a_fetched_month(nomis, shared_data):
    """End to end with a month served by the loopback Nomis: rates by group, published figures beside."""
    from leftbehind.analysis.economy import claimant_rates
    from leftbehind.analysis.pipeline import build_wards
    from leftbehind.context import RunContext
    from leftbehind.editions import edition
    from leftbehind.options import make_run_options

    published = {r.group: r.value for r in edition("2020").rates("2019", "claimant_count")}
    ctx = RunContext(shared_data)
    wards, shares = build_wards(make_run_options(), edition("2020"), ctx=ctx)
    t, status = claimant_rates("2020-05", wards, shares, ctx=ctx, client=nomis(page_size=2), published=published)
    assert status["available"] and status["lsoas_without_count"] == 32_844 - len(AREAS)
    e = t.set_index("group")
    assert e.loc["england", "numerator"] == pytest.approx(sum(a[2] for a in AREAS))
    assert e.loc["left_behind", "published"] == 10.6 and e.loc["england", "published"] == 6.5
    assert (t["unit"].str.len() > 0).all() and t["source"].str.contains("NM_162_1").all()
