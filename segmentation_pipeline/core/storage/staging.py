"""The staging area of a data root and the journal that makes a write of several files all or nothing, even across a
crash (`kill -9`, power loss):

    .staging/                    flock held while one write commits, so commits never interleave
    .staging/<write id>/         flock held by its writer while it lives: a folder nobody holds is a leftover
        0-part-0.parquet …       the staged files, fsynced before the commit
        journal.json             once committed: the renames to do; gone when they are done

A crash before the journal is committed leaves every target untouched (the staged files are leftovers that the next
write, or `recover`, removes); a crash after it leaves a journal that the next write, or `recover`, completes.
Locks are `flock`s, which the operating system releases when their process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.core.storage.durable import StorageError, flush, fsync, make_folders, shown, storage_error
from segmentation_pipeline.core.storage.layout import STAGING, DataLayout

JOURNAL = "journal.json"
LEGACY_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")


@dataclass(frozen=True)
class Journal:
    """A committed write: move the `withdrawn` targets aside (the last first), then rename each staged file over its
    target, in order. Redoing it after a crash at any point completes the same write: a staged file that is gone was
    renamed already, and a withdrawn target is only moved aside while its replacement is still staged."""

    renames: tuple[tuple[Path, Path], ...]
    withdrawn: frozenset[Path] = frozenset()

    def dump(self, root: Path) -> str:
        return json.dumps(
            {
                "renames": [[staged.name, shown(target.absolute(), root)] for staged, target in self.renames],
                "withdrawn": sorted(shown(target.absolute(), root) for target in self.withdrawn),
            }
        )

    @classmethod
    def load(cls, folder: Path, root: Path) -> Journal:
        data = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
        renames = tuple((folder / staged, root / target) for staged, target in data["renames"])
        return cls(renames, frozenset(root / target for target in data["withdrawn"]))


def staging_area(targets: list[Path], layout: DataLayout | None) -> Path:
    """`layout`'s staging area, else that of the data root the targets lie in; outside any data root, `.staging`
    beside the targets' folders (never inside a folder that a table glob lists)."""
    layout = layout or DataLayout.enclosing(targets[0].absolute())
    if layout is not None:
        return layout.staging.absolute()
    return Path(os.path.commonpath([target.absolute().parent.parent for target in targets])) / STAGING


@contextmanager
def write_folder(area: Path) -> Iterator[Path]:
    """A new folder of the staging area, held for the block and removed after it (unless it holds a journal that
    is still to be completed). Folders that crashed writers left are removed first."""
    make_folders(area)
    _remove_abandoned(area)
    folder, descriptor = _new_held_folder(area)
    try:
        yield folder
    finally:
        if not (folder / JOURNAL).exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.close(descriptor)


def commit(folder: Path, root: Path, renames: list[tuple[Path, Path]], withdrawn: frozenset[Path]) -> None:
    """Make the staged files visible. Under the commit lock: complete any write a crash interrupted, commit the
    journal (more than one file), rename, drop the journal. A failing rename before any target changed retracts
    the write (the previous files stand); after, the journal stays for the next write or `recover`."""
    journal = Journal(tuple(renames), withdrawn)
    journaled = len(renames) > 1 or bool(withdrawn)
    with commit_lock(folder.parent):
        roll_forward(folder.parent)
        if journaled:
            _write_journal(journal, folder, root, renames[0][1])
        try:
            _apply(journal, folder, root, "write")
        except StorageError as error:
            unfinished = StorageError(f"{error}; the next run completes this write")
            if any(not staged.exists() for staged, _ in renames):
                raise unfinished from error
            try:
                _retract(journal, folder)
            except OSError:
                raise unfinished from error
            raise
        if journaled:
            (folder / JOURNAL).unlink()
            fsync(folder)


def roll_forward(area: Path) -> None:
    """Complete every committed write still journaled in `area`: its writer died or gave up. Call it holding the
    commit lock; as every commit starts with it, there is at most one such write."""
    root = area.parent
    for journal_file in sorted(area.glob(f"*/{JOURNAL}")):
        folder = journal_file.parent
        _apply(Journal.load(folder, root), folder, root, "complete the interrupted write of")
        journal_file.unlink()
        fsync(folder)
        remove_if_abandoned(folder)


def recover(layout: DataLayout) -> int:
    """Repair what crashed writes left behind: complete every committed write, remove every staging folder no live
    writer holds. Call it at the start of a run; with nothing to do it costs one listing of `.staging/`. Returns the
    number of leftover writes (or legacy temporary files) repaired or removed."""
    area = layout.staging
    if not area.is_dir():
        return _remove_legacy_temporaries(layout)
    folders = [entry for entry in area.iterdir() if entry.is_dir()]
    if any((folder / JOURNAL).exists() for folder in folders):
        with commit_lock(area):
            roll_forward(area)
    _remove_abandoned(area)
    return sum(not folder.exists() for folder in folders)


def _remove_abandoned(area: Path) -> None:
    """One listing of the staging area, and a lock attempt per folder there (normally only live writers')."""
    for entry in area.iterdir():
        if entry.is_dir():
            remove_if_abandoned(entry)


def _remove_legacy_temporaries(layout: DataLayout) -> int:
    """Before the staging area existed, files were staged beside their targets as `.<name>.<32 hex digits>.tmp`,
    where a crash left them for table globs to count. A data root without a staging area was last written that way:
    remove them once, then create the staging area (which marks the root as swept)."""
    leftovers = [
        path
        for folder in (layout.warehouse, layout.quarantine, layout.published, layout.models)
        for path in folder.rglob(".*.tmp")
        if LEGACY_TEMPORARY.fullmatch(path.name)
    ]
    for path in leftovers:
        path.unlink(missing_ok=True)
    make_folders(layout.staging)
    return len(leftovers)


def remove_if_abandoned(folder: Path) -> bool:
    """Remove a write's folder if no live writer holds it and no journal in it is left to complete."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if (folder / JOURNAL).exists():
            return False
        shutil.rmtree(folder)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


@contextmanager
def commit_lock(area: Path) -> Iterator[None]:
    """A flock on the staging folder itself, released by the operating system when its process ends, however it
    ends."""
    descriptor = os.open(area, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _new_held_folder(area: Path) -> tuple[Path, int]:
    while True:
        folder = area / uuid.uuid4().hex
        folder.mkdir()
        descriptor = os.open(folder, os.O_RDONLY)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(descriptor), os.stat(folder)):
                return folder, descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)  # a `recover` removed it as a leftover before it was held: take another


def _write_journal(journal: Journal, folder: Path, root: Path, first_target: Path) -> None:
    """The commit point: from here on the write happens, whatever crashes."""
    try:
        fsync(folder)  # the staged files' entries, then the folder's own
        fsync(folder.parent)
        draft = folder / f"{JOURNAL}.draft"
        with open(draft, "w", encoding="utf-8") as handle:
            handle.write(journal.dump(root))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(draft, folder / JOURNAL)
        fsync(folder)
    except OSError as error:
        (folder / JOURNAL).unlink(missing_ok=True)
        more = f" and {len(journal.renames) - 1} more file(s)" if len(journal.renames) > 1 else ""
        raise storage_error("write", f"{shown(first_target, root)}{more}", error) from error


def _apply(journal: Journal, folder: Path, root: Path, action: str) -> None:
    """Do a committed write in two steps, in this order, so that no crash leaves a half-swapped set listed: first
    withdraw the completion markers, then rename the staged files over their targets in the journal's order, which
    has the markers last. In between, the targets are a mix of previous and new files that no marker lists. Each step
    skips what is done already (a staged file that is gone was renamed), so after a crash at any point the next write
    or `recover` runs `_apply` again from the journal and completes the same write."""
    _withdraw_markers(journal, folder, root, action)
    _rename_staged(journal, root, action)


def _withdraw_markers(journal: Journal, folder: Path, root: Path, action: str) -> None:
    """Move the markers' previous files aside in the reverse order of the renames, so the last marker (`runs`) goes
    first: a crash between two withdrawals never leaves a snapshot listed while another of its markers (its export)
    is away."""
    for index, (staged, target) in reversed(list(enumerate(journal.renames))):
        if target in journal.withdrawn and staged.exists() and target.exists():
            _rename(target, folder / f"withdrawn-{index}", target, root, action, folder, target.parent)


def _rename_staged(journal: Journal, root: Path, action: str) -> None:
    """Rename every file still staged over its target, in order: a marker is back only once everything it lists is
    in place."""
    renamed = []
    for staged, target in journal.renames:
        if staged.exists():
            make_folders(target.parent)
            _rename(staged, target, target, root, action)
            renamed.append(target)
    if renamed:
        try:
            flush(list(dict.fromkeys(target.parent for target in renamed)))
        except OSError as error:
            raise storage_error(action, shown(renamed[0], root), error) from error


def _retract(journal: Journal, folder: Path) -> None:
    """Undo a write no target of which was renamed yet: put the withdrawn targets back, then drop the journal."""
    for index, (_, target) in enumerate(journal.renames):
        aside = folder / f"withdrawn-{index}"
        if aside.exists():
            os.replace(aside, target)
            fsync(target.parent)
    (folder / JOURNAL).unlink(missing_ok=True)
    fsync(folder)


def _rename(source: Path, destination: Path, target: Path, root: Path, action: str, *synced: Path) -> None:
    """Rename, then fsync `synced` (the folders a rename must be on disk in before the next one)."""
    try:
        os.replace(source, destination)
        for folder in synced:
            fsync(folder)
    except OSError as error:
        raise storage_error(action, shown(target, root), error) from error
