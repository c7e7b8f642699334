"""leftbehind: reproducible analysis of England's 'left behind' neighbourhoods.

The package reads published open data (and OCSI's Community Needs Index, which is not open
data) through :mod:`leftbehind.data`, rebuilds composite indices with
:mod:`leftbehind.indices`, and builds the analyses on top of them.

For notebooks, the Python API (:mod:`leftbehind.api`) is here too, loaded on first use so that
``import leftbehind`` (and ``leftbehind --help``) stays instant::

    import leftbehind as lb
    res = lb.run(edition="2025", ensemble=0)   # lb.areas, lb.robustness, lb.target, lb.profile, lb.open
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import leftbehind stays instant)

__version__ = "0.1.0"

#: the names of leftbehind.api offered at the top level (imported on first use)
_API = ("run", "areas", "robustness", "target", "profile", "open", "SectionResult")

if TYPE_CHECKING:
    from leftbehind.api import SectionResult, areas, open, profile, robustness, run, target  # noqa: F401


def __getattr__(name: str):
    if name in _API:
        from leftbehind import api

        value = getattr(api, name)
        globals()[name] = value  # the next look-up is a plain attribute
        return value
    raise AttributeError(f"module 'leftbehind' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
