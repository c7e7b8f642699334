"""Declarative index specifications (YAML, validated with pydantic).

A spec names its input dataset, the area-code column, the components with their
transformation and weight, how the weighted sum is ranked, and what published values the
result is checked against. Shipped specs live in ``leftbehind/indices/specs/*.yaml``; any
YAML file in the same format can be passed instead of a name.

Component transformations:

``exp_rank``
    the input is a rank (1 = most deprived); apply the IoD exponential transformation with
    n = the number of areas. ``ties: average`` first replaces a tied block of published ranks
    by the mean of its positions (CNI); ``ties: as_published`` uses ranks as they are.
``exp_score``
    rank the input score (higher = worse) and exponentially transform the rank.
``normal_score``
    rank-based normal score Φ⁻¹(r/(n+1)), ties averaged.
``identity``
    use the input as it is.

Every component may set ``direction: lower_is_worse`` to flip an input where a low value
means more deprived (ranks are always 1 = most deprived and need no flip).
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leftbehind.errors import SpecError


class Shrink(BaseModel):
    """Empirical-Bayes shrinkage of a count indicator before its transform: the component's column
    is the numerator; rates numerator/denominator are shrunk towards the rate of their ``parent``
    area (IoD technical report; :func:`leftbehind.indices.weights.eb_shrink`)."""

    model_config = ConfigDict(extra="forbid")

    denominator: str
    parent: str


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    column: str
    transform: Literal["exp_rank", "exp_score", "normal_score", "identity"]
    weight: float | None = None  # required with weighting: fixed
    ties: Literal["as_published", "average"] = "as_published"
    direction: Literal["higher_is_worse", "lower_is_worse"] = "higher_is_worse"
    label: str | None = None
    shrink: Shrink | None = None  # shrink numerator/denominator rates towards a parent area first


class Check(BaseModel):
    """Published values to compare the rebuilt index with, and what counts as a pass."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = None  # defaults to the spec's source
    score: str | None = None  # published score column
    rank: str | None = None  # published rank column
    decile: str | None = None
    score_tolerance: float | None = None  # every |rebuilt - published| must be within this
    rank_exact_min: float | None = None  # share of areas whose rank equals the published rank
    rank_max_diff: float | None = None
    spearman_min: float | None = None  # Spearman correlation with the published score (or rank) at least this
    spot_scores: dict[str, float] = {}  # published values for named areas (e.g. from File 7)
    spot_tolerance: float = 0.0005
    note: str | None = None


class IndexSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    edition: str
    geography: str  # e.g. lsoa11, lsoa21, wd17
    source: str  # catalogue dataset id of the input table
    area: str  # area-code column in the source
    components: list[Component] = Field(min_length=1)
    weight_total: float | None = 1.0  # the weights must add up to this (None: no constraint)
    #: fixed (the components' weights) or estimated from the data: equal, pca, factor (ML factor-analysis
    #: loadings rescaled to sum to 1, the IoD's weights), factor_scores, least_squares (against check.score)
    weighting: Literal["fixed", "equal", "pca", "factor", "factor_scores", "least_squares"] = "fixed"
    rank_ties: Literal["first", "min", "average"] = "first"
    citation: str | None = None
    description: str | None = None
    #: rebuilt and checked by every `leftbehind run` (the File 8 rebuilds are run by `index build` and the tests)
    main_job: bool = True
    check: Check | None = None

    @model_validator(mode="after")
    def _weights(self) -> IndexSpec:
        names = [c.name for c in self.components]
        if len(set(names)) != len(names):
            raise ValueError(f"component names must be unique, got {names}")
        if self.weighting != "fixed":
            if self.weighting == "least_squares" and (self.check is None or not self.check.score):
                raise ValueError("weighting: least_squares needs check.score, the published score to fit")
            return self
        unset = [c.name for c in self.components if c.weight is None]
        if unset:
            raise ValueError(
                f"weighting is fixed but component(s) {', '.join(unset)} have no weight; give each a "
                "weight or choose weighting: equal | pca | factor | least_squares"
            )
        total = sum(c.weight for c in self.components)
        if self.weight_total is not None and not math.isclose(total, self.weight_total, abs_tol=1e-9):
            raise ValueError(
                f"weights add up to {total:.6g}, not {self.weight_total:g} "
                f"({', '.join(f'{c.name}={c.weight:g}' for c in self.components)}); fix the weights or "
                "set weight_total"
            )
        return self


def _shipped() -> dict[str, str]:
    root = resources.files("leftbehind.indices").joinpath("specs")
    return {p.name[: -len(".yaml")]: p.name for p in root.iterdir() if p.name.endswith(".yaml")}


def shipped_specs() -> list[str]:
    return sorted(_shipped())


def _safe_load(text: str):
    """``yaml.safe_load``, through libyaml when PyYAML has it (the same constructor and resolver:
    the same values, several times faster); a document libyaml rejects is parsed again in Python,
    so an error reads as it always did."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def parse_spec(text: str, source: str) -> IndexSpec:
    try:
        raw = _safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(
            f"index spec {source} is not valid YAML: {exc}",
            hint="check indentation and brackets; the shipped specs (`leftbehind index list`) show the format",
        ) from None
    if not isinstance(raw, dict):
        raise SpecError(
            f"index spec {source} must be a YAML mapping (name:, source:, components: ...), got {type(raw).__name__}",
            hint="see the shipped specs in leftbehind/indices/specs/ for the format",
        )
    try:
        return IndexSpec.model_validate(raw)
    except ValidationError as exc:
        msgs = []
        for e in exc.errors()[:3]:
            where = ".".join(str(p) for p in e["loc"]) or "spec"
            if where.startswith("components.") and isinstance(raw.get("components"), list):
                i = e["loc"][1]
                comp = raw["components"][i] if isinstance(i, int) and i < len(raw["components"]) else None
                if isinstance(comp, dict) and "name" in comp:
                    where = f"component {comp['name']!r} ({where})"
            msgs.append(f"{where}: {e['msg']}")
        raise SpecError(
            f"index spec {source} is invalid: " + "; ".join(msgs),
            hint="see the shipped specs (`leftbehind index list`) for the format",
        ) from None


@functools.lru_cache(maxsize=64)
def _parse_shipped(text: str, key: str) -> IndexSpec:
    """A shipped spec, parsed once per text (a run reads each several times; callers get a copy)."""
    return parse_spec(text, f"{key} (shipped)")


def load_spec(name_or_path: str | Path) -> IndexSpec:
    """A shipped spec by name (``imd2019``) or a YAML file by path."""
    shipped = _shipped()
    key = str(name_or_path)
    if key in shipped:
        text = resources.files("leftbehind.indices").joinpath("specs", shipped[key]).read_text("utf-8")
        return _parse_shipped(text, key).model_copy(deep=True)
    path = Path(key)
    if path.is_file():
        return parse_spec(path.read_text("utf-8"), str(path))
    raise SpecError(
        f"no index spec named {key!r} and no such file",
        hint="use one of: " + ", ".join(sorted(shipped)) + ", or the path of a YAML spec",
    )
