"""IMD history on one geography: editions moved onto LSOA 2011, persistence, sequence typology."""
