"""The uncertainty-ensemble spec: which sources of uncertainty, with what ranges, and why.

A spec is YAML (``default.yaml`` beside this module is the shipped one), validated by pydantic:
unknown keys, an unknown construction, a cut-off range outside (0, 1) or reversed, a negative
noise are each one :class:`~leftbehind.errors.SpecError` naming the field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leftbehind.errors import SpecError

ROUTES = ("oa", "best_fit")
POPULATIONS = ("census2011", "mid2015", "mid2019", "mid2020")
MEASURES = ("pop_mean", "mean")
PAIRINGS = ("iod2025", "imd2019_lsoa21")


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    why: str = Field(min_length=10)


class Construction(_Source):
    choices: list[str] = Field(min_length=1)

    @field_validator("choices")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for c in v:
            parts = c.split("/")
            if len(parts) != 3 or parts[0] not in ROUTES or parts[1] not in POPULATIONS or parts[2] not in MEASURES:
                raise ValueError(
                    f"unknown construction {c!r}: use route/population/measure with route in {ROUTES}, "
                    f"population in {POPULATIONS}, measure in {MEASURES}"
                )
        if len(set(v)) != len(v):
            raise ValueError("a construction is listed twice")
        return v


class Cutoff(_Source):
    low: float = Field(gt=0, lt=1)
    high: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


class Weights(_Source):
    concentration: float | None = Field(default=None, gt=0)  # None: the weights do not vary


class Noise(_Source):
    rank_sd: float = Field(ge=0, lt=0.5)


class Pairing(_Source):
    choices: list[str] = Field(min_length=1)

    @field_validator("choices")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in PAIRINGS]
        if bad:
            raise ValueError(f"unknown pairing {bad[0]!r}: use {' or '.join(PAIRINGS)}")
        return v


class Sources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    construction: Construction
    cutoff_cni: Cutoff
    cutoff_imd: Cutoff
    cni_weights: Weights
    imd_weights: Weights
    noise: Noise
    pairing: Pairing


class EnsembleSpec(BaseModel):
    """A validated ensemble spec (see ``default.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    sources: Sources

    def active(self, variant_source: str | None = None) -> list[str]:
        """The sources that are on and have a non-zero range. ``variant_source``: the one of
        ``construction`` (wards 2017) and ``pairing`` (LSOA 2021) that applies to the areas."""
        s = self.sources
        out = []
        if s.construction.enabled and len(s.construction.choices) > 1 and variant_source in (None, "construction"):
            out.append("construction")
        for name in ("cutoff_cni", "cutoff_imd"):
            c = getattr(s, name)
            if c.enabled and c.high > c.low:
                out.append(name)
        for name in ("cni_weights", "imd_weights"):
            if getattr(s, name).enabled and getattr(s, name).concentration is not None:
                out.append(name)
        if s.noise.enabled and s.noise.rank_sd > 0:
            out.append("noise")
        if s.pairing.enabled and len(s.pairing.choices) > 1 and variant_source in (None, "pairing"):
            out.append("pairing")
        return out

    def only(self, source: str) -> EnsembleSpec:
        """This spec with every source but ``source`` switched off (a one-at-a-time run)."""
        raw = self.model_dump()
        for name in raw["sources"]:
            raw["sources"][name]["enabled"] = name == source
        return EnsembleSpec.model_validate(raw)

    def none(self) -> EnsembleSpec:
        """Every source switched off: the ensemble reproduces the nominal classification."""
        raw = self.model_dump()
        for name in raw["sources"]:
            raw["sources"][name]["enabled"] = False
        return EnsembleSpec.model_validate(raw)


def parse_spec(text: str, where: str) -> EnsembleSpec:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"ensemble spec {where} is not valid YAML: {exc}", hint="fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise SpecError(f"ensemble spec {where} is not a mapping", hint="start from the shipped default.yaml")
    try:
        return EnsembleSpec.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        raise SpecError(
            f"ensemble spec {where}: {loc}: {e['msg'].removeprefix('Value error, ')}",
            hint="see src/leftbehind/analysis/robustness/default.yaml for every field and its meaning",
        ) from None


def load_spec(path: str | Path | None = None) -> EnsembleSpec:
    """The shipped default spec, or the YAML file at ``path``."""
    if path is None:
        text = resources.files("leftbehind.analysis.robustness").joinpath("default.yaml").read_text("utf-8")
        return parse_spec(text, "default.yaml")
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"ensemble spec {p} not found", hint="pass --spec with a YAML file (see default.yaml)")
    return parse_spec(p.read_text(encoding="utf-8"), str(p))
