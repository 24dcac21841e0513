"""Every path under one data root. Nothing else in the pipeline builds a path from the root by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

PART_FILE = "part-0.parquet"
WAREHOUSE, PUBLISHED, EXPORTS = "warehouse", "published", "exports"
"""The two areas that hold per-snapshot tables (`<area>/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet`)."""
STAGING = ".staging"
TOP_FOLDERS = frozenset({"landing", "config", WAREHOUSE, "quarantine", PUBLISHED, EXPORTS, "models"})
"""The folders directly under a data root, by which `DataLayout.enclosing` finds the root of a path."""


@dataclass(frozen=True)
class DataLayout:
    """The folders under one data root: `landing/` and `config/` are input, everything else is pipeline output."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def warehouse(self) -> Path:
        return self.root / WAREHOUSE

    @property
    def first_landing_day(self) -> Path:
        """The first landing day ever seen here, the first daily partition (`core/ingest/first_day.py`)."""
        return self.warehouse / "first_landing_day.txt"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def published(self) -> Path:
        return self.root / PUBLISHED

    @property
    def staging(self) -> Path:
        """`.staging/`: files being written, one folder per write, outside every table folder so that no table glob
        (`published/<table>/*/*`, `warehouse/...`) ever sees them; on the root's filesystem, so a rename is atomic."""
        return self.root / STAGING

    @classmethod
    def enclosing(cls, path: Path) -> DataLayout | None:
        """The data root `path` lies in: the parent of its nearest ancestor named like a top folder; None outside
        any data root."""
        for ancestor in path.parents:
            if ancestor.name in TOP_FOLDERS:
                return cls(ancestor.parent)
        return None

    @property
    def dagster_home(self) -> Path:
        """The Dagster instance of runs on this data root, unless DAGSTER_HOME says otherwise."""
        return self.root / ".dagster"

    def published_folder(self, table: str) -> Path:
        return self.published / table

    @property
    def models(self) -> Path:
        return self.root / "models" / "segmentation"

    def config_file(self, name: str) -> Path:
        return self.config / name

    def validated(self, source: str, day: date | None) -> Path:
        return _partition_file(self.warehouse / "validated" / source, "date", day)

    def validated_glob(self, source: str) -> Path:
        return self.warehouse / "validated" / source / "date=*" / PART_FILE

    def has_validated_days(self, source: str) -> bool:
        return any(self.validated_files(source))

    def has_validated_day_before(self, source: str, day: date) -> bool:
        """Whether a day of `source` before `day` is validated: the listing stops at the first one found."""
        files = (self.warehouse / "validated" / source).glob(f"date=*/{PART_FILE}")
        return any(partition_day(path) < day for path in files)

    def validated_files(self, source: str) -> list[Path]:
        return sorted((self.warehouse / "validated" / source).glob(f"date=*/{PART_FILE}"))

    def rollup(self, name: str, day: date) -> Path:
        """A daily rollup derived from validated data (see `core/features/rollups.py`)."""
        return _partition_file(self.warehouse / "rollups" / name, "date", day)

    def rollup_glob(self, name: str) -> Path:
        return self.warehouse / "rollups" / name / "date=*" / PART_FILE

    def rollup_files(self, name: str) -> list[Path]:
        return sorted((self.warehouse / "rollups" / name).glob(f"date=*/{PART_FILE}"))

    def quarantined(self, source: str, day: date | None) -> Path:
        return _partition_file(self.quarantine / source, "date", day)

    def snapshot_table(self, area: str, table: str, snapshot_date: date) -> Path:
        """A per-snapshot table file in `area` (WAREHOUSE or PUBLISHED)."""
        return _partition_file(self.root / area / table, "snapshot_date", snapshot_date)

    def snapshot_glob(self, area: str, table: str) -> Path:
        return self.root / area / table / "snapshot_date=*" / PART_FILE

    def snapshot_files(self, area: str, table: str) -> list[Path]:
        return sorted((self.root / area / table).glob(f"snapshot_date=*/{PART_FILE}"))

    def published_table(self, table: str, snapshot_date: date) -> Path:
        return self.snapshot_table(PUBLISHED, table, snapshot_date)

    def model_folder(self, quarter: date) -> Path:
        """The models of the quarter starting `quarter`: `model.joblib`, `value_model.joblib` and `card.json`."""
        return self.models / f"quarter={quarter.isoformat()}"

    def model_folders(self) -> list[Path]:
        """Every quarter's model folder, oldest first."""
        return sorted(self.models.glob("quarter=*"))

    def report(self, snapshot_date: date) -> Path:
        return self.published / "reports" / f"snapshot_date={snapshot_date.isoformat()}" / "segments.html"

    @property
    def exports(self) -> Path:
        """`exports/`: files for marketing tools that hold personal data (hashed e-mails), kept out of `published/`."""
        return self.root / EXPORTS

    @property
    def audience_exports(self) -> Path:
        return self.exports / "audiences"

    def audience_export(self, snapshot_date: date) -> Path:
        """The folder of one snapshot's audience files and their `manifest.csv`, swapped in as a whole."""
        return self.audience_exports / f"snapshot_date={snapshot_date.isoformat()}"

    def audience_export_folders(self) -> list[tuple[date, Path]]:
        """Every snapshot folder of the audience exports with its day, oldest first; other entries are not listed."""
        folders = [(_folder_day(path.name), path) for path in self.audience_exports.glob("snapshot_date=*")]
        return sorted((day, path) for day, path in folders if day is not None and path.is_dir())

    @property
    def latest_views(self) -> Path:
        """`published/latest.duckdb`: views over every snapshot and the newest one."""
        return self.published / "latest.duckdb"


def _partition_file(table_dir: Path, key: str, day: date | None) -> Path:
    """Hive-style `key=YYYY-MM-DD/part-0.parquet`; an unpartitioned table keeps its single file at the top."""
    if day is None:
        return table_dir / PART_FILE
    return table_dir / f"{key}={day.isoformat()}" / PART_FILE


def _folder_day(name: str) -> date | None:
    """The day of a `snapshot_date=YYYY-MM-DD` folder name, None for any other name."""
    value = name.removeprefix("snapshot_date=")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.isoformat() == value else None


def partition_day(path: Path) -> date:
    """The day of a `key=YYYY-MM-DD/part-0.parquet` partition file."""
    return date.fromisoformat(path.parent.name.split("=", 1)[1])
