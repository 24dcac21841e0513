"""From feature table to model inputs: missing data made explicit, then log, one-hot and standard scaling.

Fitting and scoring share these steps, so a snapshot is scored exactly as the training snapshot was encoded."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from segmentation_pipeline.core.segment.settings import ClusterSettings

MISSING_CATEGORY = "missing"


def model_inputs(features: pd.DataFrame, settings: ClusterSettings) -> pd.DataFrame:
    """The configured feature columns with missing data made explicit: no purchase = recency at the cap, no
    activity = zero counts and shares, no answer = the "missing" level."""
    inputs = pd.DataFrame(index=features.index)
    for name in (*settings.log_features, *settings.share_features):
        values = features[name].astype("float64")
        if name == "recency_days":
            values = values.fillna(settings.recency_cap_days).clip(upper=settings.recency_cap_days)
        inputs[name] = values.fillna(0.0).clip(lower=0) if name in settings.log_features else values.fillna(0.0)
    for name in settings.categorical_features:
        inputs[name] = features[name].astype("object").where(features[name].notna(), MISSING_CATEGORY).astype(str)
    return inputs


def check_features(features: pd.DataFrame, settings: ClusterSettings) -> None:
    """Fail with the offending column names when a configured model input is missing or of the wrong kind."""
    configured = (*settings.log_features, *settings.share_features, *settings.categorical_features)
    problems = [f"{name} (not a feature column)" for name in configured if name not in features.columns]
    problems += [
        f"{name} (not numeric: {features[name].dtype})"
        for name in (*settings.log_features, *settings.share_features)
        if name in features.columns and not pd.api.types.is_numeric_dtype(features[name])
    ]
    if len(set(configured)) < len(configured):
        problems.append("a feature is configured twice")
    if not configured:
        problems.append("no features configured")
    if problems:
        raise ValueError("segmentation features: " + "; ".join(problems))


def preprocessing(settings: ClusterSettings) -> Pipeline:
    """log1p for skewed counts and amounts, one-hot for categories, then standard scaling of every input.

    Scaling is by mean and standard deviation after the log, not by median and IQR: most shares are 0 for most
    customers, so their IQR is tiny and median/IQR scaling lets them swamp the distances (README: Behavioural
    segments). The log and the recency cap are what keep outliers from dominating."""
    encode = ColumnTransformer(
        [
            ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), list(settings.log_features)),
            ("share", "passthrough", list(settings.share_features)),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(settings.categorical_features),
            ),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("scale", StandardScaler())])
