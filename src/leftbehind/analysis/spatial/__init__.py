"""Spatial structure of the left-behind designation: weights, join counts, Moran's I, clusters."""
