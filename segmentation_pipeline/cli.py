"""`segmentation-pipeline`: generate sample data, or run the whole pipeline on a landing folder through Dagster."""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.engines import DEFAULT_ENGINE, ENGINES
from segmentation_pipeline.core.engines.spark_session import DEFAULT_MASTER, require_spark
from segmentation_pipeline.core.errors import PipelineError, bounded
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, ORDERS
from segmentation_pipeline.core.ingest.crm_database import (
    CRM_DATABASE_URL_ENV,
    DEFAULT_CUSTOMERS_TABLE,
    DEFAULT_ORDERS_TABLE,
    CrmDatabase,
    order_day_range,
    redact,
)
from segmentation_pipeline.core.ingest.first_day import first_partition_day
from segmentation_pipeline.core.ingest.landing import InputError, landing_days, landing_files
from segmentation_pipeline.core.ingest.redelivery import days_to_redo
from segmentation_pipeline.core.run_lock import data_root_lock
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover
from segmentation_pipeline.core.storage.tables import published_snapshots

# The CLI prints its own progress and errors; the full event log of every run stays in the instance (`make ui`).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
DAILY_VALIDATED_ASSETS = [f"validated_{source.name}" for source in DAILY_SOURCES]
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
"""Dagster's switch to plan a multi-day run as one event per asset instead of one per asset and day: on the SQLite
instance each event is a database write, and an initial load plans thousands (README: Performance). The price:
the days of a failed multi-day run show as missing in the UI, not failed (the CLI prints the failure)."""
INSTANCE_CONFIG = """\
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    granularity: run
    default_limit: 1
"""
"""The local instance the CLI writes when there is none: no telemetry, two runs at a time, and at most one run at a
time of the assets in a pool (every asset is in the data root's pool, so runs on one data root never overlap)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="segmentation-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample-data", help="write a seeded sample landing zone (and its ground truth)")
    sample.add_argument("--customers", type=int, default=2000)
    sample.add_argument("--days", type=int, default=456)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--out", type=Path, required=True, help="folder to write landing/ and ground_truth/ into")
    sample.add_argument(
        "--end-date", type=date.fromisoformat, default=None, help="latest landing day (default: yesterday, UTC)"
    )
    sample.add_argument(
        "--to-database",
        metavar="URL",
        default=None,
        help=f"also load the customers and orders into the tables {DEFAULT_CUSTOMERS_TABLE} and "
        f"{DEFAULT_ORDERS_TABLE} of this PostgreSQL database (replacing them)",
    )

    run = commands.add_parser(
        "run", help="ingest every new landing day, then build and publish the segments of one day"
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data root holding landing/ (default: $SEGMENTATION_DATA_DIR or the repo's data/)",
    )
    run.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="snapshot date (default: the latest landing day)"
    )
    run.add_argument(
        "--crm-database",
        metavar="URL",
        default=None,
        help=f"read the CRM's customers and orders from this PostgreSQL database (default: ${CRM_DATABASE_URL_ENV}; "
        "neither: from landing/crm/)",
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help="what runs the daily rollups and the customer features (default: duckdb; spark needs the spark extra)",
    )
    run.add_argument(
        "--spark-master",
        metavar="URL",
        default=None,
        help=f"with --engine spark: local[N], spark://host:7077 or Spark Connect sc://host:15002 (default: "
        f"{DEFAULT_MASTER})",
    )

    args = parser.parse_args(argv)
    if args.command == "run" and args.spark_master and args.engine != "spark":
        run.error("--spark-master needs --engine spark")
    try:
        _run_command(args)
    except (PipelineError, OSError, sqlite3.Error) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1
    finally:
        # the interpreter's collections at exit would walk every object Dagster, pandas and Great Expectations made:
        # frozen objects are skipped, which ends the command seconds sooner
        gc.freeze()
    return 0


def _run_command(args: argparse.Namespace) -> None:
    """Input, configuration or environment it cannot use raises; `main` turns that into the one-line exit."""
    if args.command == "sample-data":
        from segmentation_pipeline.sample_data import generate_landing_zone

        summary = generate_landing_zone(
            args.out, customers=args.customers, days=args.days, seed=args.seed, end_date=args.end_date
        )
        print(f"wrote a sample landing zone to {args.out.resolve() / 'landing'}: {summary}")
        if args.to_database:
            _load_sample_into(args.to_database, args.out / "landing")
        return
    if args.crm_database:
        os.environ[CRM_DATABASE_URL_ENV] = args.crm_database
    if args.engine == "spark":
        require_spark(args.spark_master or DEFAULT_MASTER)
    run_pipeline(args.data_dir, args.as_of, engine_run_config(args.engine, args.spark_master))


def _load_sample_into(url: str, landing_dir: Path) -> None:
    """Load the sample's CRM export and orders into the database's CRM tables, as they landed (bad rows too)."""
    from segmentation_pipeline.core.ingest.crm_database_load import load_landing_crm

    loaded = load_landing_crm(CrmDatabase(url), landing_dir)
    rows = ", ".join(f"{count} rows into {table}" for table, count in loaded.items())
    print(f"loaded {rows} of {redact(url)}")


def _one_line(error: Exception) -> str:
    """What the user reads: the pipeline's own message, or the file and cause of an environment failure (full disk,
    permission denied, an unwritable Dagster instance), bounded."""
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return bounded(f"{where}{error.strerror.lower()}")
    if isinstance(error, sqlite3.Error):
        return bounded(f"Dagster instance at {os.environ.get('DAGSTER_HOME')}: {error}")
    return str(error) if isinstance(error, ValidationFailed) else bounded(str(error))


class InstanceUnavailable(PipelineError):
    """The Dagster instance does not load: its dagster.yaml names an unset environment variable, or its database
    (PostgreSQL) refuses the connection."""


def _load_instance():
    import dagster as dg

    try:
        instance = dg.DagsterInstance.get()
    except Exception as error:  # whatever the storage raises: DagsterPostgresException, DagsterInvalidConfigError
        raise InstanceUnavailable(f"Dagster instance at {os.environ['DAGSTER_HOME']}: {_root_cause(error)}") from None
    # dagster-postgres opens a new connection for every statement (SQLAlchemy's NullPool) unless the process holds a
    # pool, as dagster-webserver does: the quickstart's 1,586 events took 99 s to write instead of 37 s. A no-op on
    # SQLite. No statement timeout, as without a pool.
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=10)
    return instance


def _root_cause(error: BaseException) -> str:
    """The first line of the innermost cause (the driver's own message, e.g. `connection to server at "db", port
    5432 failed: Connection refused`), or the unset variable of a dagster.yaml; never the connection URL."""
    while error.__cause__ is not None:
        error = error.__cause__
    error = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    unset = [line.split("PostProcessingError: ", 1)[1] for line in lines if "PostProcessingError: " in line]
    return (unset or lines or [type(error).__name__])[0]


class ValidationFailed(PipelineError):
    """A blocking check failed: the run stopped before anything downstream of it, so nothing new was published."""


def engine_run_config(engine: str, spark_master: str | None = None) -> dict:
    """The run config of every run: quiet console logs, and the engine's resources unless they are the defaults."""
    resources = {}
    if engine != DEFAULT_ENGINE:
        resources["engine"] = {"config": {"engine": engine}}
    if spark_master:
        resources["spark"] = {"config": {"master": spark_master}}
    return {**QUIET_RUN_CONFIG, "resources": resources} if resources else QUIET_RUN_CONFIG


def run_pipeline(data_dir: Path | None, as_of: date | None, run_config: dict = QUIET_RUN_CONFIG) -> Path:
    """Materialize every landing day up to `as_of` not yet validated (one run), then that day's snapshot (a second run).

    The Dagster instance lives under the data root unless DAGSTER_HOME is set, so two data roots never share state.
    Every run gets `run_config` (see `engine_run_config`). Returns the published `customer_segments` file of the
    snapshot.
    """
    from segmentation_pipeline.defs.resources import DATA_DIR_ENV, REPO_DATA_DIR

    layout = DataLayout(Path(data_dir or os.environ.get(DATA_DIR_ENV) or REPO_DATA_DIR).resolve())
    os.environ[DATA_DIR_ENV] = str(layout.root)
    os.environ["DAGSTER_HOME"] = str(_prepare_dagster_home(Path(os.environ.get("DAGSTER_HOME") or layout.dagster_home)))
    os.environ.setdefault(PLANNED_EVENTS_ENV, "1")
    with data_root_lock(layout.root):
        return _run_locked(layout, as_of, run_config)


def _run_locked(layout: DataLayout, as_of: date | None, run_config: dict) -> Path:
    repaired = recover(layout)
    if repaired:
        print(f"repaired {repaired} interrupted write(s) left by an earlier run")

    from segmentation_pipeline.cli_progress import ProgressDisplay
    from segmentation_pipeline.definitions import defs
    from segmentation_pipeline.defs.progress import watching

    first_day, as_of = _landing_range(layout, as_of)
    _check_partitions_cover(layout, first_day, as_of)
    definitions = defs()
    instance = _load_instance()
    started = time.monotonic()
    print(f"data root: {layout.root}\nDagster instance: {os.environ['DAGSTER_HOME']}")
    display = ProgressDisplay()
    with display, watching(display):
        redone = _ingest_pending_days(definitions, instance, run_config, layout, first_day, as_of)
        _fit_quarter_model(definitions, instance, run_config, first_day, as_of)
        _republish_affected_snapshots(definitions, instance, run_config, layout, redone, as_of)
        print(f"[3/3] snapshot {as_of}: ingest, validate, features, RFM, segments, publish")
        job = definitions.resolve_job_def("segmentation_job")
        _execute(job, instance, run_config, partition_key=as_of.isoformat())
    print(f"done in {time.monotonic() - started:.1f} s")
    return _print_summary(layout, as_of)


def _check_partitions_cover(layout: DataLayout, first_day: date, as_of: date) -> None:
    """Every day of the run is a daily partition: the partitions start on the first landing day (earlier ones only
    by an explicit start), and end with the latest complete UTC day."""
    from segmentation_pipeline.core.ingest.first_day import PARTITIONS_START_ENV
    from segmentation_pipeline.defs.partitions import PARTITIONS_START

    if first_day < PARTITIONS_START:
        raise InputError(
            f"{layout.landing}: landing data starts on {first_day}, before {PARTITIONS_START_ENV}={PARTITIONS_START}; "
            f"unset it (the first landing day is the default) or set it to {first_day} or earlier"
        )
    latest = datetime.now(UTC).date() - timedelta(days=1)
    if as_of > latest:
        raise InputError(f"--as-of {as_of} is not a complete day yet; the latest complete day is {latest}")


def _ingest_pending_days(
    definitions, instance, run_config: dict, layout: DataLayout, first_day: date, as_of: date
) -> list[date]:
    """Ingest and validate every landing day before `as_of` that is not validated yet, or whose landing files or
    validated partition changed since (in one run per stretch of consecutive days: an initial load is a backfill).
    Returns the days done again."""
    import dagster as dg

    done = set.intersection(*(instance.get_materialized_partitions(dg.AssetKey(key)) for key in DAILY_VALIDATED_ASSETS))
    history = [first_day + timedelta(days=n) for n in range((as_of - first_day).days)]
    redo = days_to_redo(layout, [day for day in history if day.isoformat() in done])
    for day, reasons in redo.items():
        print(f"[1/3] {day} again: {'; '.join(reasons)}")
    pending = sorted({day for day in history if day.isoformat() not in done} | set(redo))
    if not pending:
        print("[1/3] every landing day before the snapshot is already validated")
    for start, end in _stretches(pending):
        print(f"[1/3] ingesting and validating {(end - start).days + 1} landing days {start} .. {end} in one run")
        tags = {
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        }
        _execute(definitions.resolve_job_def("ingest_job"), instance, run_config, tags=tags)
    return sorted(redo)


def _stretches(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) stretches of consecutive days."""
    stretches: list[tuple[date, date]] = []
    for day in days:
        if stretches and day == stretches[-1][1] + timedelta(days=1):
            stretches[-1] = (stretches[-1][0], day)
        else:
            stretches.append((day, day))
    return stretches


def _republish_affected_snapshots(
    definitions, instance, run_config: dict, layout: DataLayout, redone: list[date], as_of: date
) -> None:
    """Published snapshots from the first re-done day on read that day's data (features look back over history):
    build and publish them again, in date order, before the new snapshot."""
    affected = [day for day in published_snapshots(layout) if redone and redone[0] <= day < as_of]
    for day in affected:
        print(f"[redo] snapshot {day}: recomputed and published again (it reads data re-ingested for {redone[0]})")
        _execute(definitions.resolve_job_def("segmentation_job"), instance, run_config, partition_key=day.isoformat())


def _fit_quarter_model(definitions, instance, run_config: dict, first_day: date, as_of: date) -> None:
    """The model of `as_of`'s quarter, fitted on the quarter's eve unless it exists or there is no history then."""
    import dagster as dg

    quarter = quarter_start(as_of)
    model_quarters = instance.get_materialized_partitions(dg.AssetKey("segmentation_model"))
    if quarter.isoformat() in model_quarters:
        print(f"[2/3] the segmentation model of the quarter starting {quarter} exists")
    elif quarter - timedelta(days=1) < first_day:
        print(f"[2/3] no history before the quarter starting {quarter}: the snapshot run fits the model on {as_of}")
    else:
        print(f"[2/3] fitting the segmentation model of the quarter starting {quarter} on the snapshot of its eve")
        job = definitions.resolve_job_def("quarterly_refit_job")
        _execute(job, instance, run_config, partition_key=quarter.isoformat())


def _landing_range(layout: DataLayout, as_of: date | None) -> tuple[date, date]:
    """The first day of data and the snapshot day (by default the latest day of data). With a CRM database, its
    first order day is recorded as a partition start candidate, as a first landing day is."""
    url = os.environ.get(CRM_DATABASE_URL_ENV)
    order_days = _database_order_days(CrmDatabase(url)) if url else _landing_order_days(layout)
    days = sorted({day for source in DAILY_SOURCES for day in landing_days(layout.landing, source)} | set(order_days))
    if url:
        first_partition_day(layout, days[0])
    as_of = as_of or days[-1]
    if as_of < days[0]:
        raise InputError(f"--as-of {as_of} is before the first landing day {days[0]}")
    return days[0], as_of


def _landing_order_days(layout: DataLayout) -> list[date]:
    if not landing_files(layout.landing, CUSTOMERS):
        raise InputError(
            f"{layout.landing / CUSTOMERS.landing_path}.csv (or .parquet): the CRM customer export is missing"
        )
    order_days = landing_days(layout.landing, ORDERS)
    if not order_days:
        raise InputError(f"{layout.landing / ORDERS.landing_path}: no date=YYYY-MM-DD folders; orders are required")
    return order_days


def _database_order_days(database: CrmDatabase) -> list[date]:
    """The first and latest complete order days of the CRM database (the days between are read by day, with or
    without orders); today's orders wait for tomorrow's run."""
    first_and_last = order_day_range(database)
    if first_and_last is None:
        raise InputError(f"{database.orders_table}: no order with an ordered_at; orders are required")
    print(f"CRM: customers and orders from {redact(database.url)} (landing/crm/ is not read)")
    first, last = first_and_last
    return [first, min(last, datetime.now(UTC).date() - timedelta(days=1))]


def _prepare_dagster_home(path: Path) -> Path:
    """A persistent local instance: runs stay visible in `dg dev`; telemetry off (so Dagster prints no telemetry
    banner into the run's output), runs queued two at a time. Absolute, as Dagster requires of DAGSTER_HOME."""
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    return path


def _execute(job, instance, run_config: dict, **kwargs) -> None:
    import dagster as dg

    started = time.monotonic()
    try:
        job.execute_in_process(instance=instance, run_config=run_config, **kwargs)
        print(f"      {job.name} finished in {time.monotonic() - started:.1f} s")
    except (dg.DagsterExecutionStepExecutionError, dg.Failure) as error:
        raised = error.user_exception if isinstance(error, dg.DagsterExecutionStepExecutionError) else error
        cause = raised.__cause__ if isinstance(raised, dg.Failure) else raised  # see retried_only_if_transient
        if isinstance(cause, PipelineError | OSError | sqlite3.Error):
            raise cause from None
        raise
    except dg.DagsterError:  # a failed blocking check stops the run with a Dagster error of its own
        report = _failed_checks_report(instance)
        if report is None:
            raise
        raise ValidationFailed(report) from None


def _failed_checks_report(instance) -> str | None:
    """The failed blocking checks of the latest run, with the expectations behind them; None if there are none."""
    import dagster as dg

    run = instance.get_runs(limit=1)[0]
    lines = []
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            lines.append(f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}:")
            lines.append(evaluation.metadata["failed_expectations"].value)
    if not lines:
        return None
    return "\n".join(
        [f"validation failed in run {run.run_id}; nothing downstream was materialized or published", *lines]
    )


def _print_summary(layout: DataLayout, as_of: date) -> Path:
    import duckdb

    published = layout.published_table("customer_segments", as_of)
    print("published tables:")
    for table in sorted(path for path in layout.published.iterdir() if path.is_dir()):
        print(f"  {table}/snapshot_date={as_of}/")
    query = (
        "SELECT segment_id, segment_name, count(*) AS customers FROM read_parquet($path) "
        "GROUP BY ALL ORDER BY segment_id"
    )
    with duckdb.connect() as con:
        rows = con.execute(query, {"path": str(published)}).fetchall()
        rfm = con.execute(
            "SELECT rfm_segment, count(*) FROM read_parquet($path) GROUP BY ALL ORDER BY 2 DESC, 1",
            {"path": str(published)},
        ).fetchall()
    print(f"customers per behavioural segment on {as_of}:")
    for segment_id, name, customers in rows:
        print(f"  {segment_id:>3}  {customers:>7}  {name}")
    print("customers per RFM segment:")
    for name, customers in rfm:
        print(f"       {customers:>7}  {name}")
    return published


if __name__ == "__main__":
    sys.exit(main())
