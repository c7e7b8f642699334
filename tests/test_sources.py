"""Where data comes from: the resolution order, checksums, and downloads from a local HTTP
server on loopback (no other network)."""

from __future__ import annotations

import csv
import hashlib
import http.server
import socket
import threading
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from leftbehind.data.catalogue import Dataset, load_catalogue, parse_catalogue
from leftbehind.data.sources import resolve, status
from leftbehind.errors import ChecksumError, DataError, DownloadError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_root(tmp_path):
    """Serve ``tmp_path/www`` on 127.0.0.1 at a free port; yield (root, base_url)."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _dataset(download: str | None, sha: str | None, **kw) -> Dataset:
    base = dict(
        id="test_table",
        title="A test table",
        publisher="test",
        edition="t1",
        geography="lsoa",
        vintage="2011",
        coverage="England",
        licence="OGL-3.0",
        download_url=download,
        sha256=sha,
    )
    return Dataset(**{**base, **kw})


def test_download_into_cache_is_checked_and_reused(http_root, isolated_env):
    root, base = http_root
    body = b"lsoa11cd,value\nE01000001,1\n"
    (root / "table.csv").write_bytes(body)
    ds = _dataset(f"{base}/table.csv", hashlib.sha256(body).hexdigest())
    got = resolve(ds)
    assert got.origin == "cache" and got.verified
    assert got.path.read_bytes() == body
    assert got.path.is_relative_to(isolated_env / "cache")
    # second time: served from the cache, even with the server's copy gone
    (root / "table.csv").unlink()
    again = resolve(ds)
    assert again.path == got.path and again.origin == "cache"


def test_download_hash_mismatch_is_refused_and_nothing_kept(http_root, isolated_env):
    root, base = http_root
    (root / "table.csv").write_bytes(b"tampered\n")
    ds = _dataset(f"{base}/table.csv", "0" * 64)
    with pytest.raises(ChecksumError, match="catalogue expects 0000"):
        resolve(ds)
    cached = list((isolated_env / "cache").rglob("table.csv"))
    assert cached == []


def test_download_http_error(http_root, isolated_env):
    _, base = http_root
    with pytest.raises(DownloadError, match="HTTP 404"):
        resolve(_dataset(f"{base}/nope.csv", "0" * 64))


def test_download_unreachable(isolated_env):
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not download"):
        resolve(_dataset(f"http://127.0.0.1:{port}/x.csv", "0" * 64))


def test_no_download_source_says_where_to_get_it(isolated_env):
    ds = _dataset(None, None, file="cni/x.csv", url="https://example.org/landing")
    with pytest.raises(DataError, match="no download URL") as exc:
        resolve(ds)
    assert "--data" in exc.value.hint


def test_unpinned_download_is_marked_unverified(http_root, isolated_env):
    root, base = http_root
    (root / "f7.csv").write_bytes(b"a,b\n")
    got = resolve(_dataset(f"{base}/f7.csv", None))
    assert got.origin == "cache" and not got.verified


def test_resolution_order_mirror_then_shared(shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv("LEFTBEHIND_DATA", raising=False)
    monkeypatch.setenv("LEFTBEHIND_CACHE", str(tmp_path / "cache"))
    ds = load_catalogue()["cni2019_wards"]
    # no --data: the shared folder beside the project
    assert resolve(ds).origin == "shared"
    # --data wins when it holds the file
    mirror = tmp_path / "m"
    (mirror / "cni").mkdir(parents=True)
    (mirror / ds.file).write_bytes((shared_data / ds.file).read_bytes())
    got = resolve(ds, mirror)
    assert got.origin == "mirror" and got.path == mirror / ds.file
    # LEFTBEHIND_DATA is the same as --data
    monkeypatch.setenv("LEFTBEHIND_DATA", str(mirror))
    assert resolve(ds).origin == "mirror"


def test_corrupt_local_file(shared_data, tmp_path, isolated_env):
    ds = load_catalogue()["cni2019_wards"]
    (tmp_path / "m" / "cni").mkdir(parents=True)
    bad = tmp_path / "m" / ds.file
    bad.write_bytes((shared_data / ds.file).read_bytes().replace(b"Abbey", b"Abbot", 1))
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        resolve(ds, tmp_path / "m")
    assert not resolve(ds, tmp_path / "m", verify=False).verified
    assert status(ds, tmp_path / "m")[0] == "corrupt"


def test_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        resolve("cni2019_wards", tmp_path / "nowhere")


def test_catalogue_covers_the_manifest_exactly(shared_data):
    cat = load_catalogue()
    by_file = {d.file: d for d in cat if d.file}
    with open(shared_data / "MANIFEST.csv", newline="") as fh:
        manifest = {r["path"]: r for r in csv.DictReader(fh)}
    assert set(by_file) == set(manifest)
    for path, row in manifest.items():
        assert by_file[path].sha256 == row["sha256"], path
        assert by_file[path].bytes == int(row["bytes"]), path
    assert len(set(cat.ids())) == len(cat)
    f7 = cat["imd2019_file7"]
    assert f7.file is None and f7.download_url.startswith("https://assets.publishing.service.gov.uk/")
    from leftbehind.data.schemas import SPECS

    assert set(SPECS) <= set(cat.ids())
    assert not cat["cni2019_wards"].is_open_data and cat["imd2019_file2"].is_open_data


def test_catalogue_errors_name_the_entry():
    with pytest.raises(DataError, match="sha256"):
        parse_catalogue(
            "datasets:\n  - {id: a, title: t, publisher: p, edition: e, geography: g, vintage: v, "
            "coverage: c, licence: l, file: a.csv, sha256: nothex}\n"
        )
    with pytest.raises(DataError, match="appears twice"):
        entry = (
            "  - {id: a, title: t, publisher: p, edition: e, geography: g, vintage: v, coverage: c, "
            "licence: l, file: a.csv}\n"
        )
        parse_catalogue("datasets:\n" + entry + entry)


def test_cli_data_list_and_verify_on_the_real_mirror(shared_data, isolated_env):
    runner = CliRunner()
    res = runner.invoke(app, ["data", "list", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    with open(shared_data / "MANIFEST.csv", newline="") as fh:
        files = sum(1 for _ in csv.DictReader(fh))
    # every mirror file is present and verified; File 7 (not in the mirror) is the one missing
    assert f"{files} present" in res.output and "1 missing" in res.output
    res = runner.invoke(app, ["data", "verify", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    assert "all local datasets verified" in res.output


def test_cli_data_fetch_from_loopback(http_root, isolated_env, monkeypatch):
    root, base = http_root
    body = b"x,y\n1,2\n"
    (root / "t.csv").write_bytes(body)
    cat = parse_catalogue(
        "datasets:\n  - {id: loop, title: t, publisher: p, edition: e, geography: lsoa, vintage: '2011', "
        f"coverage: England, licence: OGL-3.0, download_url: '{base}/t.csv', "
        f"sha256: {hashlib.sha256(body).hexdigest()}}}\n"
    )
    import leftbehind.data as data_pkg

    monkeypatch.setattr(data_pkg, "load_catalogue", lambda: cat)
    res = CliRunner().invoke(app, ["data", "fetch", "loop"])
    assert res.exit_code == 0, res.output
    assert Path(res.output.split("loop: ")[1].split(" (")[0]).read_bytes() == body
