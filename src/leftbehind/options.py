"""The options of a run, declared once.

:data:`RUN_OPTIONS` is the one declaration: each option's name, command-line flag, default,
allowed values and help text. ``leftbehind run`` builds its flags from it (``cli.py``), and
:func:`run_options_model` builds the validated pydantic model the pipeline takes (recorded in
``summary.json``). A new option is one entry here.

This module is light (no pydantic, pandas or numpy at import), so ``leftbehind --help`` stays
instant; the model is built on first use.

Values are checked: choices against their allowed values, numbers against their bounds, and
the red-wall rule against the parties and regions of the election files
(:data:`PARTIES`, :data:`REGIONS`). A bad value is one :class:`~leftbehind.errors.UsageError`
naming the flag and listing the valid values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: Party codes of the House of Commons Library general election results 2017 and 2019 (winners).
PARTIES = ("Con", "Lab", "LD", "SNP", "PC", "Green", "DUP", "SF", "SDLP", "Alliance", "Ind", "Spk")
#: Regions and nations of the election files (England's nine regions, Wales, Scotland, Northern Ireland).
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East",
    "London",
    "South East",
    "South West",
    "Wales",
    "Scotland",
    "Northern Ireland",
)
#: The usual 'red wall' area: the North, the Midlands and Wales.
NORTH_MIDLANDS_WALES = REGIONS[:5] + ("Wales",)


@dataclass(frozen=True)
class Opt:
    """One option: ``kind`` is choice, float, int, bool, month, parties or regions."""

    name: str
    flag: str
    kind: str
    default: object
    help: str
    choices: tuple[str, ...] = ()
    gt: float | None = None
    lt: float | None = None
    ge: int | None = None
    le: int | None = None

    def cli_default(self) -> object:
        """The default as typed on the command line (comma-joined for lists)."""
        if self.kind in ("parties", "regions"):
            return ",".join(self.default)
        return self.default


def _edition_choices() -> tuple[str, ...]:
    """The editions found (the package's and those in LEFTBEHIND_EDITIONS; see leftbehind.editions)."""
    from leftbehind.editions import edition_ids

    return edition_ids()


def _edition_help() -> str:
    from leftbehind.editions import found

    return "; ".join(f"{e.id}: {e.help}" for e in found().values()) + "."


RUN_OPTIONS: tuple[Opt, ...] = (
    Opt(
        "edition",
        "--edition",
        "choice",
        "2020",
        _edition_help(),
        choices=_edition_choices(),
    ),
    Opt(
        "imd",
        "--imd",
        "choice",
        "2019",
        "IMD edition for the ward IMD: 2019 (as the published 2020 list) or 2015 (as the published 2019 list).",
        choices=("2019", "2015"),
    ),
    Opt(
        "population",
        "--population",
        "choice",
        "census2011",
        "Population weights for the ward IMD.",
        choices=("census2011", "mid2015", "mid2019", "mid2020"),
    ),
    Opt(
        "ward_imd",
        "--ward-imd",
        "choice",
        "pop_mean",
        "Ward IMD measure (IoD summary measures; pop_mean = population-weighted mean score).",
        choices=("pop_mean", "mean", "avg_rank", "proportion", "extent", "local_concentration"),
    ),
    Opt(
        "threshold",
        "--threshold",
        "float",
        0.10,
        "Top share on both indices: rank <= floor(threshold x areas), between 0 and 1 (exclusive).",
        gt=0.0,
        lt=1.0,
    ),
    Opt(
        "lookup",
        "--lookup",
        "choice",
        "oa",
        "Small areas to wards: oa (Output Areas, derived OA->WD17 lookup) or best_fit (ONS LSOA->WD17 best fit).",
        choices=("oa", "best_fit"),
    ),
    Opt(
        "residents",
        "--residents",
        "choice",
        "mid2019",
        "Population reported for wards and groups.",
        choices=("mid2019", "mid2020", "mid2015", "census2011"),
    ),
    Opt(
        "replicates",
        "--replicates",
        "int",
        1000,
        "Bootstrap resamples for the outcome intervals (100 to 100,000).",
        ge=100,
        le=100_000,
    ),
    Opt(
        "month",
        "--month",
        "month",
        "2020-05",
        "Claimant-count month as YYYY-MM (fetched beforehand with `leftbehind claimants fetch`).",
    ),
    Opt(
        "red_wall",
        "--red-wall",
        "parties",
        ("Lab", "Con"),
        "Red-wall rule: the winning party in 2017 and in 2019, as two House of Commons Library codes, e.g. "
        "Lab,Con. Parties: " + ", ".join(PARTIES) + ".",
    ),
    Opt(
        "red_wall_regions",
        "--red-wall-regions",
        "regions",
        NORTH_MIDLANDS_WALES,
        "Comma-separated regions of the red-wall rule. Regions: " + ", ".join(REGIONS) + ".",
    ),
    Opt("skip_indices", "--skip-indices", "bool", False, "Do not rebuild and check the shipped indices."),
    Opt(
        "ensemble",
        "--ensemble",
        "int",
        1000,
        "Replications of the uncertainty ensemble behind the 'how sure' columns, the certainty map and the "
        "claims ledger's intervals (0 to 100,000; 0 = none). `leftbehind robustness` runs 10,000 with the "
        "sensitivity analysis.",
        ge=0,
        le=100_000,
    ),
    Opt(
        "seed", "--seed", "int", 20201, "Seed of the uncertainty ensemble (the same seed gives the same output).", ge=0
    ),
)
BY_NAME = {o.name: o for o in RUN_OPTIONS}


def _split(value) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return tuple(value)


def _check_listed(opt: Opt, values: tuple[str, ...], valid: tuple[str, ...]) -> tuple[str, ...]:
    """Values exactly as the election files spell them (a near miss is named, never guessed)."""
    lower = {v.lower(): v for v in valid}
    for v in values:
        if v not in valid:
            near = f" (did you mean {lower[v.lower()]!r}?)" if v.lower() in lower else ""
            raise ValueError(f"unknown value {v!r}{near}; valid values: {', '.join(valid)}")
    return tuple(values)


@functools.cache
def run_options_model():
    """The pydantic model of :data:`RUN_OPTIONS` (frozen, extra fields forbidden)."""
    from typing import Literal

    from pydantic import ConfigDict, Field, create_model, field_validator

    fields = {}
    for o in RUN_OPTIONS:
        if o.name == "edition":  # checked against the editions found when the options are made
            fields[o.name] = (str, Field(o.default, description=o.help))
        elif o.kind == "choice":
            fields[o.name] = (Literal[o.choices], Field(o.default, description=o.help))
        elif o.kind == "float":
            fields[o.name] = (float, Field(o.default, gt=o.gt, lt=o.lt, description=o.help))
        elif o.kind == "int":
            fields[o.name] = (int, Field(o.default, ge=o.ge, le=o.le, description=o.help))  # le None: no bound
        elif o.kind == "bool":
            fields[o.name] = (bool, Field(o.default, description=o.help))
        elif o.kind == "month":
            fields[o.name] = (str, Field(o.default, pattern=r"^(19|20)\d\d-(0[1-9]|1[0-2])$", description=o.help))
        elif o.kind == "parties":
            fields[o.name] = (tuple[str, str], Field(o.default, description=o.help))
        elif o.kind == "regions":
            fields[o.name] = (tuple[str, ...], Field(o.default, min_length=1, description=o.help))

    def parties(cls, v):
        got = _split(v)
        if len(got) != 2:
            raise ValueError(f"give two party codes, the 2017 and the 2019 winner, like Lab,Con (got {v!r})")
        return _check_listed(BY_NAME["red_wall"], got, PARTIES)

    def regions(cls, v):
        return _check_listed(BY_NAME["red_wall_regions"], _split(v), REGIONS)

    def edition(cls, v):
        from leftbehind.editions import edition_ids

        v = str(v)
        if v not in edition_ids():
            raise ValueError(f"unknown edition {v!r}; valid values: {', '.join(edition_ids())}")
        return v

    validators = {
        "check_edition": field_validator("edition", mode="before")(edition),
        "parties": field_validator("red_wall", mode="before")(parties),
        "regions": field_validator("red_wall_regions", mode="before")(regions),
    }
    return create_model(
        "RunOptions",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __validators__=validators,
        **fields,
    )


def smallest_threshold(n: int) -> float:
    """The smallest threshold, to three significant figures, with floor(threshold x n) >= 1.

    >>> smallest_threshold(7_433), smallest_threshold(33_755), smallest_threshold(100)
    (0.000135, 2.97e-05, 0.01)
    """
    import math

    exact = 1.0 / max(int(n), 1)
    decimals = 2 - math.floor(math.log10(exact))  # three significant figures
    step = 10.0**-decimals
    t = round(math.ceil(exact / step - 1e-9) * step, decimals)
    while math.floor(t * n + 1e-9) < 1:  # never below 1/n after rounding
        t = round(t + step, decimals)
    return t


def check_threshold(threshold: float, n: int, noun: str = "areas", where: str = "") -> None:
    """A UsageError when floor(threshold x n) is 0: such a threshold selects no area at all."""
    import math

    if n > 0 and math.floor(threshold * n + 1e-9) < 1:
        from leftbehind.errors import UsageError

        least = smallest_threshold(n)
        raise UsageError(
            f"--threshold {threshold:g} selects no area: the cut-off rank floor({threshold:g} x {n:,}) is 0 "
            f"for the {n:,} {noun}{where}",
            hint=f"use --threshold {least:g} or more (the smallest that selects one of the {n:,} {noun}); "
            f"the default is {BY_NAME['threshold'].default:g}",
        )


def make_run_options(**values):
    """Validated run options; a bad value is a UsageError naming its flag and the valid values.

    A ``--threshold`` so small that floor(threshold x areas) is 0 on an edition's unit (the 7,433
    wards of 2020, the 33,755 LSOAs 2021 of 2025) is refused here too, naming the smallest that works."""
    opts = _validated(**values)
    from leftbehind.editions import editions_for_run

    for ed in sorted(editions_for_run(opts.edition), key=lambda e: e.unit.n_areas):
        check_threshold(opts.threshold, ed.unit.n_areas, ed.unit.noun, f" of edition {ed.id}")
    return opts


def _validated(**values):
    from pydantic import ValidationError

    from leftbehind.errors import UsageError

    model = run_options_model()
    try:
        return model(**values)
    except ValidationError as exc:
        e = exc.errors()[0]
        name = str(e["loc"][0]) if e["loc"] else ""
        opt = BY_NAME.get(name)
        flag = opt.flag if opt else (name or "option")
        msg = e["msg"].removeprefix("Value error, ")
        valid = f"valid values: {', '.join(opt.choices)}" if opt and opt.choices else None
        raise UsageError(
            f"{flag}: {msg} (got {e.get('input')!r})",
            hint=valid or "see `leftbehind run --help` for the allowed values",
        ) from None
