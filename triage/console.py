"""Terminal-side helpers of the CLI: atomic report files and the progress bar on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from triage.errors import Location, ReportError


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temp file and a rename, so it is never half-written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ReportError(
            "the output folder does not exist; create it or choose another -o path",
            Location(str(path)),
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(
            f"cannot write the report: {error.strerror}", Location(str(path))
        ) from None


class ProgressBar:
    """A rich progress bar on stderr over the input bytes, with the current stage as its label."""

    AUTO_BYTES = 64 * 1024 * 1024

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=total or None)

    @classmethod
    @contextlib.contextmanager
    def maybe(cls, paths: list[str], forced: bool | None) -> Iterator[ProgressBar | None]:
        """Yield a running bar when asked (`--progress`) or when big inputs meet a terminal."""
        from triage.pipeline import input_size

        total = sum(input_size(p) for p in paths)
        wanted = forced if forced is not None else sys.stderr.isatty() and total > cls.AUTO_BYTES
        if not wanted:
            yield None
            return
        bar = cls(total)
        with bar._progress:
            yield bar

    def __call__(self, stage: str, done: int) -> None:
        """Show `stage` and advance the bar by `done` input bytes."""
        self._progress.update(self._task, description=stage, advance=done)
