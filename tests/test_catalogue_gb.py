"""The catalogue entries of the 30 Scotland, Wales and Northern Ireland files under gb/ in the
data mirror (SOURCES.md, section "Scotland, Wales and Northern Ireland (gb/)"): one entry per
MANIFEST file with its checksum, size and row count, and the right licence class."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources

import pytest
import yaml

from leftbehind.data.catalogue import load_catalogue

pytestmark = pytest.mark.realdata

#: the three OCSI Community Needs Index tables for the devolved nations (not open data)
CNI = {"cni2022_wales_msoa11", "cni2022_scotland_iz11", "cni2022_ni_soa"}
#: the geography values the catalogue header allows
GEOGRAPHIES = {"oa", "lsoa", "msoa", "ward", "lad", "region", "pcon", "country", "mixed", "none"}


@pytest.fixture(scope="module")
def gb_manifest(shared_data) -> dict[str, dict[str, str]]:
    with open(shared_data / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"].startswith("gb/")]
    assert len(rows) == 30
    return {r["path"]: r for r in rows}


def _gb_entries():
    return [d for d in load_catalogue() if d.file and d.file.startswith("gb/")]


def test_every_gb_file_has_exactly_one_entry_matching_the_manifest(gb_manifest):
    entries = _gb_entries()
    per_file = Counter(d.file for d in entries)
    assert set(per_file) == set(gb_manifest)
    assert all(n == 1 for n in per_file.values()), [f for f, n in per_file.items() if n > 1]
    for d in entries:
        row = gb_manifest[d.file]
        assert d.sha256 == row["sha256"], d.id
        assert d.bytes == int(row["bytes"]), d.id
        expected_rows = int(row["rows_or_features"]) if row["rows_or_features"] else None
        assert d.rows == expected_rows, d.id
        # mirror copies are converted or re-saved: never a byte-identical download URL
        assert d.download_url is None, d.id
        assert d.geography in GEOGRAPHIES, d.id
        assert d.mirror_source and d.notes, d.id


def test_cni_entries_are_not_open_data_and_everything_else_is():
    entries = {d.id: d for d in _gb_entries()}
    assert set(entries) >= CNI
    for ds_id, d in entries.items():
        if ds_id in CNI:
            assert not d.is_open_data, ds_id
            assert d.licence == "OCSI (not open data; redistributed publicly)", ds_id
            assert "OCSI" in d.licence and "OCSI" in (d.attribution or ""), ds_id
            assert "not open data" in (d.notes or "").lower(), ds_id
        else:
            assert d.is_open_data, (ds_id, d.licence)


def test_catalogue_ids_are_unique():
    # counted in the raw YAML too, independent of the loader's own duplicate check
    text = resources.files("leftbehind.data").joinpath("catalogue.yaml").read_text("utf-8")
    raw_ids = [entry["id"] for entry in yaml.safe_load(text)["datasets"]]
    assert len(raw_ids) == len(set(raw_ids))
    ids = load_catalogue().ids()
    assert ids == raw_ids
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes
    gb_ids = [d.id for d in _gb_entries()]
    assert len(gb_ids) == len(set(gb_ids)) == 30
