"""Index engine: transformations, declarative specifications and the builder."""

from leftbehind.indices.transforms import (
    deciles,
    exponential_transform,
    normal_scores,
    rank_areas,
    weighted_sum,
)

__all__ = ["deciles", "exponential_transform", "normal_scores", "rank_areas", "weighted_sum"]
