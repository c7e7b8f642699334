"""The dataset catalogue: one declarative YAML file describing every dataset we use.

``catalogue.yaml`` (next to this module) lists, for each dataset, its id, title, publisher,
edition, geography and vintage, licence, official URL, the byte-identical download URL where
one is known, the file's path in a local mirror laid out like ``../shared/data``, and the
mirror file's sha256. :func:`load_catalogue` parses and validates it with pydantic.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leftbehind.errors import DataError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Dataset(BaseModel):
    """One catalogue entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    publisher: str
    edition: str
    geography: str
    vintage: str
    coverage: str
    licence: str
    attribution: str | None = None
    url: str | None = None
    download_url: str | None = None
    mirror_source: str | None = None
    file: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    rows: int | None = None
    notes: str | None = None

    @field_validator("sha256")
    @classmethod
    def _sha(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return v

    @model_validator(mode="after")
    def _reachable(self) -> Dataset:
        if self.file is None and self.download_url is None:
            raise ValueError("a dataset needs a mirror 'file', a 'download_url', or both")
        return self

    @property
    def filename(self) -> str:
        """The file's name: the mirror path's last part, else the download URL's."""
        if self.file:
            return Path(self.file).name
        assert self.download_url is not None
        return self.download_url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_open_data(self) -> bool:
        return self.licence.upper().startswith(("OGL", "OPL", "CC-BY"))


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: list[Dataset]

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        seen: set[str] = set()
        for d in self.datasets:
            if d.id in seen:
                raise ValueError(f"dataset id {d.id!r} appears twice")
            seen.add(d.id)
        return self

    def __getitem__(self, dataset_id: str) -> Dataset:
        for d in self.datasets:
            if d.id == dataset_id:
                return d
        known = ", ".join(sorted(d.id for d in self.datasets))
        raise DataError(
            f"unknown dataset id {dataset_id!r}",
            hint=f"use one of the catalogue's ids ({known}); `leftbehind data list` shows them",
        )

    def __iter__(self):  # type: ignore[override]
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)

    def ids(self) -> list[str]:
        return [d.id for d in self.datasets]


def parse_catalogue(text: str, source: str = "catalogue") -> Catalogue:
    """Parse catalogue YAML text; raise :class:`DataError` naming the bad entry."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{source} is not valid YAML: {exc}") from None
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"{source}: {where}: {first['msg']}") from None


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package."""
    text = resources.files("leftbehind.data").joinpath("catalogue.yaml").read_text("utf-8")
    return parse_catalogue(text, "leftbehind/data/catalogue.yaml")
