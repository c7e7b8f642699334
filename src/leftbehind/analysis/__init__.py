"""Analysis: the left-behind classification, outcomes, breakdowns and the main pipeline."""
