"""Geography: lookups with vintages, populations, IoD summary measures for larger areas, ward IMD."""
