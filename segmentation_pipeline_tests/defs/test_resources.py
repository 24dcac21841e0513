"""Each stage's settings resource mirrors its core settings dataclass: the same fields with the same defaults, so the
settings reach the core code in exactly one way and a default is written once."""

from dataclasses import MISSING, fields

import pytest

from segmentation_pipeline.core.features.settings import FeatureSettings, RfmSettings
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.features.resources import FeaturesResource, RfmResource
from segmentation_pipeline.defs.ingest.resources import IngestResource
from segmentation_pipeline.defs.publish.resources import PublishingResource
from segmentation_pipeline.defs.resources import SettingsResource
from segmentation_pipeline.defs.segment.resources import SegmentationResource, ValueResource
from segmentation_pipeline.defs.validate.resources import ValidationResource

RESOURCES = {
    "ingest": IngestResource,
    "validation": ValidationResource,
    "features": FeaturesResource,
    "rfm": RfmResource,
    "segmentation": SegmentationResource,
    "value": ValueResource,
    "publishing": PublishingResource,
}


@pytest.mark.parametrize("key", sorted(RESOURCES))
def test_a_settings_resource_has_every_field_of_its_dataclass_with_the_same_default(key):
    resource_class = RESOURCES[key]
    core_fields = {field.name: field.default for field in fields(resource_class.core_settings)}
    assert MISSING not in core_fields.values()
    resource_fields = resource_class.model_fields
    assert set(core_fields) <= set(resource_fields)
    defaults = {name: resource_fields[name].default for name in core_fields}
    assert {name: tuple(v) if isinstance(v, list) else v for name, v in defaults.items()} == core_fields
    assert resource_class().settings() == resource_class.core_settings()


def test_every_settings_resource_is_registered_under_its_key():
    registered = defs().resources
    assert {key: type(registered[key]) for key in RESOURCES} == RESOURCES
    assert all(issubclass(resource, SettingsResource) for resource in RESOURCES.values())


def test_configured_values_reach_the_core_settings():
    assert FeaturesResource(lookback_days=30).settings() == FeatureSettings(lookback_days=30)
    assert RfmResource(freeze_cut_points_from="2026-01-31").settings() == RfmSettings("", "2026-01-31")
    settings = SegmentationResource(categorical_features=["nps_group"], fixed_k=5).settings()
    assert settings == ClusterSettings(categorical_features=("nps_group",), fixed_k=5)
    value = ValueResource(horizon_days=180, churn_high_below=0.2).settings()
    assert value == ValueSettings(horizon_days=180, churn_high_below=0.2)
