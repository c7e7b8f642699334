"""leftbehind: reproducible analysis of England's 'left behind' neighbourhoods.

The package reads published open data (and OCSI's Community Needs Index, which is not open
data) through :mod:`leftbehind.data`, rebuilds composite indices with
:mod:`leftbehind.indices`, and builds the analyses on top of them.
"""

__version__ = "0.1.0"
