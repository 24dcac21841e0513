"""The holdout check of each quarter's value model, on the refit asset: did the model fitted on the history up to
the eve minus `holdout_days` predict the purchases of those last days? It warns and never blocks: segments and the
rest of the snapshot do not depend on the value model."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.value.holdout import HoldoutCheck
from segmentation_pipeline.core.value.model import NoValueModel, ValueModel, validation_problem

VALUE_CHECK = "value_model_holdout"
value_check_spec = dg.AssetCheckSpec(
    VALUE_CHECK,
    asset="segmentation_model",
    description="Predicted against actual purchases in the holdout period of the quarter's value model (warns when "
    "the aggregate error exceeds the threshold, or when no model was fitted or checked).",
)


def value_check_result(value_model: ValueModel | NoValueModel) -> dg.AssetCheckResult:
    problem = validation_problem(value_model)
    holdout = value_model.holdout if isinstance(value_model, ValueModel) else None
    figures = {}
    if isinstance(holdout, HoldoutCheck):
        figures = {
            "summary": holdout.summary(),
            "relative_error": holdout.relative_error,
            "error_threshold": holdout.error_threshold,
            "predicted_purchases": holdout.predicted_purchases,
            "actual_purchases": holdout.actual_purchases,
            "mean_absolute_error": holdout.mean_absolute_error,
            "by_frequency": dg.MetadataValue.md(pd.DataFrame(holdout.by_frequency).to_markdown(index=False)),
        }
    return dg.AssetCheckResult(
        check_name=VALUE_CHECK,
        passed=problem is None,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"problem": problem or "none", **figures},
    )
