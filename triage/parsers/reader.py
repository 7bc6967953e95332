"""Read an input into a lines frame (`line`: UInt32 1-based, `raw`: String) without a Python loop.

Plain files are scanned lazily with polars' CSV reader used as a line splitter: no quoting, a
separator byte the data does not contain, lossy UTF-8. Empty lines come back as null (they are
still lines), one trailing `\\r` is stripped, NUL bytes stay content. Stdin and compressed
inputs are read into memory first and split the same way.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from triage.errors import Location, ParseError

HEAD_BYTES = 256 * 1024
# Separator candidates, rarest first: if a line holds the separator the reader sees two
# columns and raises, and the next candidate is tried.
SEPARATORS = ("\x1f", "\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07", "\x0e", "\x0f")
BINARY_SHARE = 0.3
CHUNK = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Source:
    """One opened input: where the bytes are, what they look like at the start."""

    path: str
    data: bytes | None
    """The whole input when it was read into memory (stdin, .gz, .zst); None for plain files."""
    head: bytes
    mtime: datetime | None
    ends_with_newline: bool

    def scan(self, separator: str) -> pl.LazyFrame:
        """A lazy frame of every physical line, numbered from 1."""
        options = {
            "has_header": False,
            "separator": separator,
            "quote_char": None,
            "new_columns": ["raw"],
            "schema": {"raw": pl.String},
            "encoding": "utf8-lossy",
        }
        if self.data is None:
            lf = pl.scan_csv(self.path, **options)  # type: ignore[arg-type]
        else:
            lf = pl.read_csv(io.BytesIO(self.data), **options).lazy()  # type: ignore[arg-type]
        return lf.with_row_index("line", offset=1)


def open_source(path: str) -> Source:
    """Open `path` (`-` for stdin, `.gz`, `.zst`) or raise `ParseError` saying what to do."""
    if path == "-":
        return _in_memory(path, sys.stdin.buffer.read(), None)
    if os.path.isdir(path):
        raise ParseError("is a directory; give the log file inside it", Location(path))
    try:
        mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return _in_memory(path, handle.read(), mtime)
        if path.endswith(".zst"):
            return _in_memory(path, _read_zstd(path), mtime)
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(size - 1, 0))
            last = handle.read(1)
    except FileNotFoundError:
        raise ParseError("no such file; check the path", Location(path)) from None
    except PermissionError:
        raise ParseError("permission denied; run with access to the file", Location(path)) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ParseError(f"cannot read: {exc}; check the file", Location(path)) from None
    _check_text(path, head)
    return Source(path, None, head, mtime, last in (b"\n", b""))


def _read_zstd(path: str) -> bytes:
    try:
        import zstandard
    except ImportError:
        raise ParseError(
            "cannot read .zst without the zstandard package; decompress it first (zstd -d)",
            Location(path),
        ) from None
    with open(path, "rb") as handle:
        return bytes(zstandard.ZstdDecompressor().stream_reader(handle).read())


def _in_memory(path: str, data: bytes, mtime: datetime | None) -> Source:
    _check_text(path, data[:HEAD_BYTES])
    return Source(path, data, data[:HEAD_BYTES], mtime, data.endswith(b"\n") or not data)


def _check_text(path: str, head: bytes) -> None:
    """Refuse inputs that are mostly control bytes: a log is text (NULs inside lines are fine)."""
    if not head:
        return
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 27))
    if control / len(head) > BINARY_SHARE:
        raise ParseError(
            "looks binary, not a text log; for a journal file use `journalctl --file "
            "<file> -o short-iso` (or -o json) and pass that output",
            Location(path),
        )


def head_lines(source: Source, limit: int = 200) -> list[str]:
    """The first `limit` lines, decoded lossily, for format detection."""
    lines = source.head.decode("utf-8", "replace").split("\n")[:limit]
    return [line.removesuffix("\r") for line in lines]


def count_lines(source: Source) -> int:
    """Physical lines: newlines, plus one for a last line without one. Constant memory."""
    if source.data is not None:
        data = source.data
        return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    total = 0
    with open(source.path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            total += chunk.count(b"\n")
    return total + (0 if source.ends_with_newline else 1)


def read_lines(source: Source, keep: pl.Expr | None = None) -> tuple[pl.DataFrame, int]:
    """Materialise the lines `keep` selects (all when None) and count every line.

    Returns the frame in file order and the total number of physical lines.
    """
    error: Exception | None = None
    for separator in SEPARATORS:
        try:
            lf = source.scan(separator)
            if keep is not None:
                lf = lf.filter(keep)
            frame = lf.collect(engine="streaming")
            return frame.with_columns(pl.col("line").cast(pl.UInt32)), count_lines(source)
        except (pl.exceptions.ShapeError, pl.exceptions.ComputeError) as exc:
            error = exc
        except pl.exceptions.SchemaError as exc:
            error = exc
    raise ParseError(f"cannot split into lines ({error}); is it text?", Location(source.path))
