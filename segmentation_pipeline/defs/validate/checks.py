"""The checks of the validated assets: the expectation suites' blocking and warning checks, and referential
integrity, built from what the run's partitions reported."""

import dagster as dg

from segmentation_pipeline.core.validate.expectations import CRITICAL, WARNING, ExpectationOutcome, failures_table
from segmentation_pipeline.core.validate.row_checks import OutcomeSummary

SUITE_CHECKS = {
    CRITICAL: (
        "critical_expectations",
        dg.AssetCheckSeverity.ERROR,
        "Critical expectations of the source's suite; blocks everything downstream when it fails.",
    ),
    WARNING: (
        "warning_expectations",
        dg.AssetCheckSeverity.WARN,
        "Warning expectations of the source's suite; never blocks.",
    ),
}
REFERENTIAL_CHECK = "referential_integrity"


def check_specs(asset_name: str, daily: bool) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            name, asset=asset_name, blocking=severity is dg.AssetCheckSeverity.ERROR, description=description
        )
        for name, severity, description in SUITE_CHECKS.values()
    ]
    if daily:
        specs.append(
            dg.AssetCheckSpec(
                REFERENTIAL_CHECK,
                asset=asset_name,
                description="Share of rows whose customer is missing from the CRM export (they are quarantined).",
            )
        )
    return specs


def suite_check_results(outcomes: list[ExpectationOutcome]) -> list[dg.AssetCheckResult]:
    results = []
    for severity_name, (check_name, severity, _) in SUITE_CHECKS.items():
        selected = [outcome for outcome in outcomes if outcome.severity == severity_name]
        failed = [outcome for outcome in selected if not outcome.success]
        results.append(
            dg.AssetCheckResult(
                check_name=check_name,
                passed=not failed,
                severity=severity,
                metadata={
                    "expectations_evaluated": len(selected),
                    "expectations_failed": len(failed),
                    "failed_expectations": dg.MetadataValue.md(failures_table(failed)),
                },
            )
        )
    return results


def referential_check_result(outcomes: list[OutcomeSummary], max_rate: float) -> dg.AssetCheckResult:
    rows_in = sum(outcome.rows_in for outcome in outcomes)
    unknown = sum(outcome.check_counts.get("unknown_customer", 0) for outcome in outcomes)
    rate = unknown / rows_in if rows_in else 0.0
    return dg.AssetCheckResult(
        check_name=REFERENTIAL_CHECK,
        passed=rate <= max_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_with_unknown_customer": unknown, "unknown_customer_rate": rate, "max_rate": max_rate},
    )
