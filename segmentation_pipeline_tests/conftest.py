"""One fixed first daily partition for the whole test session.

The definitions take their first partition from the data root of the first import, once per process; a test
process runs on many data roots, so without this the partitions (and `defs/asset_graph.json`) would depend on which
test imported them first and on what the developer's `data/` holds. Tests of the derived start run the CLI in a
subprocess without this variable (`end_to_end/test_older_history.py`) or call the core function
(`ingest/test_first_day.py`).
"""

import os

from segmentation_pipeline.core.ingest.first_day import PARTITIONS_START_ENV

os.environ[PARTITIONS_START_ENV] = "2024-01-01"
pytest_plugins = ["segmentation_pipeline_tests.postgres_server"]
