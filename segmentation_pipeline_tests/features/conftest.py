import pandas as pd
import pytest

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline_tests.features.builders import SNAPSHOT, feature_warehouse


@pytest.fixture
def features(tmp_path) -> pd.DataFrame:
    """The features of the builders' warehouse on SNAPSHOT, by customer."""
    return compute_features(feature_warehouse(tmp_path), SNAPSHOT).set_index("customer_id")
