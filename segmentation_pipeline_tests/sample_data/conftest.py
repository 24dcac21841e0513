from __future__ import annotations

import pytest

from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.sample_data.landing_reader import SMALL, Landing


@pytest.fixture(scope="package")
def small(tmp_path_factory) -> Landing:
    """One small generated landing zone, read back once for every test of the package."""
    root = tmp_path_factory.mktemp("landing_small")
    return Landing(root, generate_landing_zone(root, **SMALL))
