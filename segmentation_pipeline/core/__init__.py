"""Domain logic of the pipeline. Nothing in this package imports Dagster, so it can be tested and reused on its own."""
