"""Region groupings used as defaults (a light module: the CLI imports it for its --help text)."""

#: The usual 'red wall' area: the North, the Midlands and Wales.
NORTH_MIDLANDS_WALES = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "Wales",
)
