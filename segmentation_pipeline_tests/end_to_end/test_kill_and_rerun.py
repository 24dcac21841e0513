"""`segmentation-pipeline run` killed with SIGKILL mid backfill, mid first publish and mid re-publish (while the
publish stages its files, and once it has begun swapping them in), then run again.

Right after the kill a reader must see only complete Parquet files and only snapshots in `runs` whose tables hold the
row counts `runs` lists. After the run is done again: the same holds, nothing temporary or staged is left, every
input row is either validated or quarantined, and the published tables are those of a clean run.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.export import receipt_path
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.end_to_end import kill_points
from segmentation_pipeline_tests.end_to_end.kill_points import NOT_PIPELINE_FILES, Run, run_and_kill, run_cli

END = date(2026, 6, 30)
DAYS = 12
HISTORY_DAYS = DAYS - 1
"""The days before END: the initial backfill; END itself is ingested by the snapshot run."""
SOURCES = ("customers", "orders", "survey_responses", "usage_events")
NOT_COMPARED = ("published_at", "run_id")
"""Columns that differ between any two runs."""
NOT_A_TABLE = ("reports",)
"""Published folders that hold no Parquet table (the HTML report)."""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, dict]:
    """A generated landing zone that no run touches, and the generator's summary (rows written per source)."""
    root = tmp_path_factory.mktemp("pristine")
    summary = generate_landing_zone(root, customers=150, days=DAYS, seed=3, end_date=END)
    return root, summary


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory) -> Path:
    """The data root of a clean, uninterrupted run for END."""
    root = tmp_path_factory.mktemp("reference") / "root"
    shutil.copytree(pristine[0] / "landing", root / "landing")
    run = run_cli(root, END, root.parent / "logs")
    assert run.returncode == 0, run.stderr[-4000:]
    print(f"clean reference run: {run.elapsed_s:.1f} s")
    return root


# --- what a reader sees ----------------------------------------------------------------------------------------------


def state_files(root: Path) -> list[Path]:
    """The files the pipeline keeps beside its warehouse tables for itself: the first landing day and the CRM
    export's validation receipt."""
    layout = DataLayout(root)
    return [layout.first_landing_day, receipt_path(layout)]


def visible_table_files(root: Path) -> list[Path]:
    """Every file the readers' globs pick up: `published/*/*/*`, `warehouse/**`, `quarantine/**` (a glob's `*` does
    not match a leading dot, so hidden temporary names are not picked up, as in DuckDB, Spark or a shell), but the
    state files."""
    patterns = ("published/*/*/*", "warehouse/**/*", "quarantine/**/*")
    paths = {Path(path) for pattern in patterns for path in glob.glob(str(root / pattern), recursive=True)}
    return sorted(
        path
        for path in paths - set(state_files(root))
        if path.is_file() and path.relative_to(root).parts[:2] not in {("published", "reports")}
    )


def reader_problems(root: Path) -> list[str]:
    """What a reader could trip over right now: a visible table file that is not complete readable Parquet, a
    visible temporary file, a snapshot in `runs` whose tables do not hold the row counts `runs` lists, a report
    that is cut short."""
    problems = []
    for path in visible_table_files(root):
        try:
            pq.read_table(path)
        except (pa.ArrowException, OSError) as error:
            problems.append(f"{path.relative_to(root)}: not readable Parquet ({error})")
    problems += [f"{path}: a visible temporary file" for path in pipeline_files(root) if path.name.endswith(".tmp")]
    receipt = receipt_path(DataLayout(root))
    if receipt.exists():
        try:
            json.loads(receipt.read_text(encoding="utf-8"))
        except ValueError as error:
            problems.append(f"{receipt.relative_to(root)}: cut short ({error})")
    problems += runs_problems(root)
    for report in glob.glob(str(root / "published" / "reports" / "*" / "*.html")):
        if not Path(report).read_text(encoding="utf-8").rstrip().endswith("</html>"):
            problems.append(f"{Path(report).relative_to(root)}: report cut short")
    return problems


def runs_problems(root: Path) -> list[str]:
    """Every snapshot listed in `published/runs/` has every table, with the row count of its `runs` row."""
    problems = []
    for runs_file in sorted(glob.glob(str(root / "published" / "runs" / "snapshot_date=*" / "part-0.parquet"))):
        rows = pq.read_table(runs_file).to_pylist()
        folder = Path(runs_file).parent.name
        if len(rows) != 1 or f"snapshot_date={rows[0]['snapshot_date']}" != folder:
            problems.append(f"published/runs/{folder}: {len(rows)} rows, expected one row for its own date")
            continue
        for column, expected in rows[0].items():
            if not column.endswith("_rows") or column in ("validated_rows", "quarantined_rows"):
                continue
            table = root / "published" / column.removesuffix("_rows") / folder / "part-0.parquet"
            if not table.exists():
                problems.append(f"{table.relative_to(root)}: missing, but listed in runs")
            elif (actual := pq.read_metadata(table).num_rows) != expected:
                problems.append(f"{table.relative_to(root)}: {actual} rows, runs says {column} = {expected}")
    return problems


# --- what a finished run leaves ------------------------------------------------------------------------------------


def pipeline_files(root: Path, hidden: bool = False) -> list[Path]:
    """Files the pipeline wrote (relative to the root; not the instance, the lock, landing or the ground truth);
    only visible ones unless `hidden`."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        relative = Path(dirpath).relative_to(root)
        if relative == Path("."):
            dirnames[:] = [name for name in dirnames if name not in NOT_PIPELINE_FILES]
            filenames = [name for name in filenames if name not in NOT_PIPELINE_FILES]
        if not hidden:
            dirnames[:] = [name for name in dirnames if not name.startswith(".")]
            filenames = [name for name in filenames if not name.startswith(".")]
        files += [relative / name for name in filenames]
    return sorted(files)


def leftovers(root: Path) -> list[str]:
    """Temporary or staged files still there: any `*.tmp`, any hidden file or a file in a hidden folder."""
    return [
        str(path)
        for path in pipeline_files(root, hidden=True)
        if path.name.endswith(".tmp") or any(part.startswith(".") for part in path.parts)
    ]


def num_rows(path: Path) -> int:
    return pq.read_metadata(path).num_rows


def accounting_problems(root: Path, rows_written: dict[str, int]) -> list[str]:
    """Every landing row is validated or quarantined, per source, in a validated and a quarantine partition per day;
    the `runs` validation counts are those of the snapshot day's partitions."""
    problems = []
    for source in SOURCES:
        validated_files = sorted((root / "warehouse" / "validated" / source).glob("**/part-0.parquet"))
        quarantine_files = sorted((root / "quarantine" / source).glob("**/part-0.parquet"))
        rows = sum(map(num_rows, validated_files)) + sum(map(num_rows, quarantine_files))
        if rows != rows_written[source]:
            problems.append(f"{source}: {rows} validated and quarantined rows, {rows_written[source]} landing rows")
        days = {path.parent.name for path in validated_files}
        if days != {path.parent.name for path in quarantine_files}:
            problems.append(f"{source}: the validated and quarantined partitions are not the same days")
        if source != "customers" and len(days) != DAYS:
            problems.append(f"{source}: {len(days)} validated partitions, expected {DAYS}")
    runs_file = root / "published" / "runs" / f"snapshot_date={END}" / "part-0.parquet"
    if runs_file.exists():
        (row,) = pq.read_table(runs_file).to_pylist()
        for key, area in (("validated_rows", Path("warehouse", "validated")), ("quarantined_rows", Path("quarantine"))):
            day_files = [root / area / source / f"date={END}" / "part-0.parquet" for source in SOURCES[1:]]
            actual = sum(num_rows(path) for path in day_files if path.exists())
            if row[key] != actual:
                problems.append(f"runs {END}: {key} = {row[key]}, the day's partitions hold {actual}")
    else:
        problems.append(f"published/runs/snapshot_date={END}: missing")
    return problems


def comparable(path: Path) -> pa.Table:
    """A published table without the columns that differ between runs, in a fixed row order."""
    table = pq.read_table(path)
    table = table.drop_columns([name for name in NOT_COMPARED if name in table.column_names])
    keys = [(field.name, "ascending") for field in table.schema if not pa.types.is_nested(field.type)]
    return table.sort_by(keys)


def differences_from(reference: Path, root: Path) -> list[str]:
    """How the pipeline's files and published tables under `root` differ from those of the reference run."""
    ours, theirs = set(pipeline_files(root)), set(pipeline_files(reference))
    problems = [f"{path}: not in the clean run" for path in sorted(ours - theirs)]
    problems += [f"{path}: missing (the clean run has it)" for path in sorted(theirs - ours)]
    for path in sorted(theirs & ours):
        if path.parts[0] != "published" or path.parts[1] in NOT_A_TABLE or path.suffix != ".parquet":
            continue
        mine, clean = comparable(root / path), comparable(reference / path)
        if not mine.equals(clean):
            problems.append(f"{path}: differs from the clean run ({mine.num_rows} vs {clean.num_rows} rows)")
    tables = {path for path in theirs & ours if root / path not in state_files(root)}
    for path in sorted(tables):  # the warehouse's row counts too: same rows validated and quarantined
        if path.parts[0] in ("warehouse", "quarantine") and num_rows(root / path) != num_rows(reference / path):
            problems.append(f"{path}: {num_rows(root / path)} rows, the clean run has {num_rows(reference / path)}")
    latest = root / "published" / "latest.duckdb"
    if latest.exists():
        with duckdb.connect(str(latest), read_only=True) as con:
            view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'customer_segments'").fetchone()[0]
            customers = con.execute("SELECT count(*) FROM latest_customer_segments").fetchone()[0]
        if str(root / "published") not in view:
            problems.append(f"published/latest.duckdb: its views do not read this data root ({view[:200]})")
        if customers != num_rows(
            reference / "published" / "customer_segments" / f"snapshot_date={END}" / "part-0.parquet"
        ):
            problems.append(f"published/latest.duckdb: latest_customer_segments has {customers} rows")
    return problems


# --- the kill points -------------------------------------------------------------------------------------------------


def published_runs_state(root: Path) -> tuple[int, int] | None:
    path = root / "published" / "runs" / f"snapshot_date={END}" / "part-0.parquet"
    return (path.stat().st_ino, path.stat().st_mtime_ns) if path.exists() else None


def prepare(kill_point: str, root: Path, pristine: Path, reference: Path):
    """The data root to run on, the observer of the kill point and a function telling, after the kill, whether the
    point had already been passed when the kill landed (None if not)."""
    if kill_point.startswith("mid-republish"):
        # a complete run for END (a copy of the clean run's root, file times kept), then END delivered again with
        # the same content: the run ingests it again and publishes END again
        shutil.copytree(reference, root, symlinks=True)
        os.utime(sorted((root / "landing" / "crm" / "orders" / f"date={END}").iterdir())[0])
        before = published_runs_state(root)
        observer = (
            kill_points.publish_staging_started(root, END)
            if kill_point == "mid-republish-staging"
            else kill_points.publish_committed(root, END)
        )
        return (
            observer,
            lambda: "the re-publish was complete" if published_runs_state(root) not in (before, None) else None,
        )
    shutil.copytree(pristine / "landing", root / "landing")
    if kill_point == "mid-backfill":
        validated = root / "warehouse" / "validated" / "usage_events"
        return (
            kill_points.mid_backfill(root, HISTORY_DAYS),
            lambda: (
                "every backfill day was validated"
                if len(list(validated.glob("date=*/part-0.parquet"))) >= HISTORY_DAYS
                else None
            ),
        )
    assert kill_point == "mid-first-publish"
    return (
        kill_points.publish_staging_started(root, END),
        lambda: "the publish was complete (runs of END written)" if published_runs_state(root) else None,
    )


def staging_report(root: Path) -> list[str]:
    """What the kill left in the staging area: each write's files, and the targets of a committed (journaled) one."""
    lines = []
    for area in sorted(kill_points.hidden_top_level(root)):
        if not (root / area).is_dir():
            lines.append(area)
            continue
        for write in sorted((root / area).iterdir()):
            files = sorted(write.iterdir()) if write.is_dir() else []
            line = f"{area}/{write.name}: {[f'{path.name} ({staged_table(path)})' for path in files]}"
            if (write / "journal.json").exists():
                journal = json.loads((write / "journal.json").read_text(encoding="utf-8"))
                line += f"; journal targets {[target for _, target in journal['renames']]}"
                line += f", withdrawn {journal['withdrawn']}"
            lines.append(line)
    return lines


def staged_table(path: Path) -> str:
    """Which published table a staged file is, by its schema: tells a staged publish from a staged warehouse write."""
    if path.name == "journal.json" or path.is_dir():
        return "journal" if path.is_file() else "folder"
    try:
        schema = pq.read_schema(path).remove_metadata()
    except (pa.ArrowException, OSError):
        return "incomplete"
    names = [table for table, published in PUBLISHED_SCHEMAS.items() if published.equals(schema)]
    return f"published {names[0]}" if names else f"{len(schema)} columns, not a published table"


def describe(kill_point: str, run: Run, passed: str | None, root: Path) -> str:
    state = "killed" if run.killed else f"ended by itself with exit code {run.returncode}"
    lines = [
        f"[{kill_point}] {state} after {run.elapsed_s:.1f} s; observed: {run.observed}",
        f"[{kill_point}] kill point passed before the kill landed: {passed}"
        if passed
        else f"[{kill_point}] the kill landed inside the kill point",
        f"[{kill_point}] last output: {run.stdout.strip().splitlines()[-1:] if run.stdout.strip() else []}",
        *(f"[{kill_point}] left by the kill: {line}" for line in staging_report(root)),
    ]
    return "\n".join(lines)


KILL_POINTS = ["mid-backfill", "mid-first-publish", "mid-republish-staging", "mid-republish-swap"]


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_killed_run_run_again_ends_like_a_clean_run(kill_point, pristine, reference, tmp_path):
    root = tmp_path / "root"
    observer, point_passed = prepare(kill_point, root, pristine[0], reference)

    # the swap of 7 renames lasts a few milliseconds: poll faster to land inside it more often than not
    interval = 0.002 if kill_point == "mid-republish-swap" else kill_points.POLL_INTERVAL_S
    killed = run_and_kill(root, END, tmp_path / "killed", observer, poll_interval_s=interval)
    print(describe(kill_point, killed, point_passed(), root))
    assert killed.killed, f"the run ended (exit code {killed.returncode}) before the kill point was seen"
    assert reader_problems(root) == []

    rerun = run_cli(root, END, tmp_path / "rerun")
    print(f"[{kill_point}] run again: exit code {rerun.returncode} after {rerun.elapsed_s:.1f} s")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    problems = {
        "reader": reader_problems(root),
        "leftovers": leftovers(root),
        "accounting": accounting_problems(root, pristine[1]["rows"]),
        "differences from the clean run": differences_from(reference, root),
    }
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_kill_points_watch_the_folders_the_pipeline_writes(reference):
    """The observers above look for these: if the layout moves, they would never fire and every kill would land
    after the fact."""
    assert len(list((reference / "warehouse" / "validated" / "usage_events").glob("date=*/part-0.parquet"))) == DAYS
    assert published_runs_state(reference) is not None
    for table in kill_points.PUBLISH_INPUTS:
        assert (reference / "warehouse" / table / f"snapshot_date={END}" / "part-0.parquet").exists(), table
