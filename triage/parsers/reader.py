"""Read an input into a lines frame (`line`: UInt32 1-based, `raw`: String) without a Python loop.

Inputs are read in blocks of whole lines, each split by polars' CSV reader used as a line
splitter: no quoting, a separator byte the data does not contain, lossy UTF-8. Empty lines come
back as null (they are still lines), one trailing `\\r` is stripped, NUL bytes stay content.
Stdin and compressed inputs are read into memory first and split the same way.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, TypeVar

import polars as pl

from triage.errors import Location, ParseError

HEAD_BYTES = 256 * 1024
# Separator candidates, rarest first: if a line holds the separator the reader sees two
# columns and raises, and the next candidate is tried.
SEPARATORS = ("\x1f", "\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07", "\x0e", "\x0f")
BINARY_SHARE = 0.3
CHUNK = 8 * 1024 * 1024
"""Bytes per block of a format parsed in full block by block (the structured exports: their
frames take several times the block's bytes)."""
LINE_CHUNKS = 3
"""A prefiltered line format's blocks span this many `CHUNK`s: such a block keeps under 1 % of
its lines, so its memory is small, while each block pays about 8 ms of fixed polars overhead
(1 GB `-f json`, 16 against 8 MB, interleaved 4x: 5.90 -> 4.84 s mean wall, 8.38 -> 6.98 s user;
peak RSS 300 -> 413-423 MB; 4 GB 526 MB). 24 MB blocks with `LINE_WORKERS` threads: 4.50 ->
4.31 and 4.80 -> 4.61 s mean wall in two interleaved rounds of 4 (user 6.75 -> 6.33 s), peak RSS
1 GB 401-423 MB, 4 GB 506 MB; 32 MB blocks were slower (fewer blocks share the cores worse at
the end). For the structured exports 16 MB blocks raised peak RSS by 50-70 %."""
WORKERS = 4
"""Threads working on blocks (polars parallelises inside each call too). A block's work is a
chain of short polars calls, and more blocks in flight keep the cores busy between them: on the
2-core machine this was tuned on, 1 GB took 7.7 s with 2 workers, 5.7 s with 4, no less with 6.
Memory grows with it (about 25 MB per block in flight), so it is fixed, not per core."""
LINE_WORKERS = 3
"""Threads for a prefiltered line format's `LINE_CHUNKS` blocks: as fast as 4 at that size
(4.61 against 4.55 s mean), with 80 MB less peak RSS."""
T = TypeVar("T")
Cutter = Callable[[bytearray, int, int], int]
"""`cut(buf, lo, end)`: the index of the newline a block may end with in `buf[lo:end]` (the
last such), or -1."""


@dataclass(frozen=True, slots=True)
class Source:
    """One opened input: where the bytes are, what they look like at the start."""

    path: str
    data: bytes | None
    """The whole input when it was read into memory (stdin, .gz, .zst); None for plain files."""
    head: bytes
    mtime: datetime | None
    ends_with_newline: bool
    size: int
    """Bytes in the input."""

    def pieces(self, boundary: bytes | Cutter = b"\n", chunks: int = 1) -> Iterator[Piece]:
        """The input in blocks of about `chunks` times `CHUNK` bytes, each (but the last) ending
        with the newline of the last `boundary` in it: `b"\\n{"` cuts only before lines
        starting `{`.

        With a bytes boundary the blocks of a large input are `Span`s: their cuts are found by
        reading a little before each multiple of the block size, and each block is read by the
        worker that parses it (in parallel, with no copy on the main thread: reading and copying
        1 GB there took about 2 s of a 6 s run on 2 cores). A `Cutter` may need every byte
        before the cut (export's binary fields), so its blocks are read in order into one buffer.
        """
        chunk = chunks * CHUNK
        if self.data is not None:
            if len(self.data) <= chunk:  # one block: no block buffer for a small input
                yield self.data
            elif isinstance(boundary, bytes):
                data = self.data
                yield from _spans(self, lambda lo, hi: data[lo:hi], len(data), boundary, chunk)
            else:
                yield from _blocks(io.BytesIO(self.data), boundary)
            return
        with open(self.path, "rb", buffering=0) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= chunk:
                yield handle.read()
            elif isinstance(boundary, bytes):
                fd = handle.fileno()
                window = functools.partial(_file_window, fd)
                yield from _spans(self, window, size, boundary, chunk)
            else:
                yield from _blocks(handle, boundary)


@dataclass(frozen=True, slots=True)
class Span:
    """A block by position (`start` to `end`), read when a worker takes it up."""

    source: Source
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def read(self) -> bytes:
        """The block's bytes (fewer if the file shrank since it was opened)."""
        if self.source.data is not None:
            return self.source.data[self.start : self.end]
        with open(self.source.path, "rb", buffering=0) as handle:
            return _pread(handle.fileno(), self.start, len(self))


Piece = bytes | Span
"""A block's bytes, or where they are."""


def _pread(fd: int, start: int, size: int) -> bytes:
    """`size` bytes at `start`, fewer at the end of the file (`os.pread` may return less)."""
    parts = [os.pread(fd, size, start)]
    done = len(parts[0])
    while done < size and (more := os.pread(fd, size - done, start + done)):
        parts.append(more)
        done += len(more)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _file_window(fd: int, lo: int, hi: int) -> bytes:
    """A file's bytes `lo..hi`, read by position."""
    return _pread(fd, lo, hi - lo)


WINDOW = 64 * 1024
"""Bytes read before a planned cut to find the boundary (doubled until one is found)."""
Windows = Callable[[int, int], bytes]
"""`window(lo, hi)`: the input's bytes `lo..hi` (read from the file or sliced from memory)."""


def _spans(
    source: Source, window: Windows, size: int, boundary: bytes, chunk: int
) -> Iterator[Span]:
    """Blocks of `size` bytes: each ends with the newline of the last `boundary` within
    `chunk` bytes of its start (else of the first after), the last one with the input."""
    start = 0
    while size - start > chunk:
        cut = _cut_before(window, start, start + chunk, boundary)
        if cut < 0:
            cut = _cut_after(window, start + chunk, size, boundary)
        if cut < 0:
            break
        yield Span(source, start, cut + 1)
        start = cut + 1
    if start < size:
        yield Span(source, start, size)


def _cut_before(window: Windows, start: int, end: int, boundary: bytes) -> int:
    """The position of the last `boundary` wholly in `start..end`, or -1."""
    width = WINDOW
    while True:
        lo = max(start, end - width)
        found = window(lo, end).rfind(boundary)
        if found >= 0:
            return lo + found
        if lo == start:
            return -1
        width *= 2


def _cut_after(window: Windows, end: int, size: int, boundary: bytes) -> int:
    """The position of the first `boundary` not wholly before `end` (in `..size`), or -1."""
    lo, width = max(end - len(boundary) + 1, 0), WINDOW
    while True:
        hi = min(lo + width, size)
        found = window(lo, hi).find(boundary)
        if found >= 0:
            return lo + found
        if hi == size:
            return -1
        lo, width = hi - len(boundary) + 1, width * 2


def _blocks(handle: BinaryIO, boundary: bytes | Cutter) -> Iterator[bytes]:
    """Whole-line blocks read into one reused buffer (a fresh one per block costs page faults)."""
    cut_in = _cutter(boundary)
    buf = bytearray(2 * CHUNK)
    view = memoryview(buf)
    start = lo = 0
    while True:
        if start + CHUNK > len(buf):  # a line longer than the buffer: grow it
            view.release()
            buf.extend(bytes(len(buf)))
            view = memoryview(buf)
        read = handle.readinto(view[start : start + CHUNK])  # type: ignore[attr-defined]
        if not read:
            if start:
                yield bytes(view[:start])
            return
        end = start + read
        cut = cut_in(buf, lo, end)
        if cut < 0:  # search only the new bytes next time (from the line they complete)
            start, lo = end, max(buf.rfind(b"\n", 0, end), 0)
            continue
        yield bytes(view[: cut + 1])
        start, lo = end - cut - 1, 0
        buf[:start] = buf[cut + 1 : end]


def _cutter(boundary: bytes | Cutter) -> Cutter:
    if callable(boundary):
        return boundary
    return lambda buf, lo, end: buf.rfind(boundary, lo, end)


def open_source(path: str) -> Source:
    """Open `path` (`-` for stdin, `.gz`, `.zst`, a pipe) or raise `ParseError` saying what to
    do. Pipes and stdin are read into memory (they can be read only once); files stay on disk."""
    if path == "-":
        return _in_memory(path, sys.stdin.buffer.read(), None)
    if os.path.isdir(path):
        raise ParseError("is a directory; give the log file inside it", Location(path))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a pipe or device (`<(journalctl ...)`): read once
            with open(path, "rb") as handle:
                return _in_memory(path, handle.read(), None)
        mtime = datetime.fromtimestamp(info.st_mtime, UTC)
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
    return Source(path, None, head, mtime, last in (b"\n", b""), size)


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
    ends = data.endswith(b"\n") or not data
    return Source(path, data, data[:HEAD_BYTES], mtime, ends, len(data))


BINARY_HINT = (
    "looks binary, not a text log; for a journal file use `journalctl --file <file> -o "
    "short-iso` (or -o json) and pass that output"
)


def _check_text(path: str, head: bytes) -> None:
    """Refuse inputs that are mostly control bytes or not UTF-8: a log is text (NULs inside
    lines and a few stray bytes are fine)."""
    if not head:
        return
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 27))
    text = head.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - head.count("\ufffd".encode())
    if control / len(head) > BINARY_SHARE or invalid / max(len(text), 1) > BINARY_SHARE:
        raise ParseError(BINARY_HINT, Location(path))


def head_lines(source: Source, limit: int = 200) -> list[str]:
    """The first `limit` lines, decoded lossily, for format detection."""
    lines = source.head.decode("utf-8", "replace").split("\n")[:limit]
    return [line.removesuffix("\r") for line in lines]


def read_lines(source: Source) -> tuple[pl.DataFrame, int]:
    """Materialise every line and count them: the frame in file order, the line count."""
    blocks, total = map_blocks(source, lambda frame: frame)
    frames = [numbered(frame, before) for before, frame in blocks if frame.height]
    if not frames:
        return pl.DataFrame(schema={"line": pl.UInt32, "raw": pl.String}), total
    return (pl.concat(frames) if len(frames) > 1 else frames[0]), total


def copied(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its strings copied out of their block: a filtered or grouped string
    column is a view into the block's buffers and would keep all of them alive."""
    return frame.with_columns(pl.col(pl.String) + pl.lit(""))


def numbered(frame: pl.DataFrame, before: int) -> pl.DataFrame:
    """A block's frame with `line` counted from the input's start (`before` lines precede it)."""
    return frame.with_columns((pl.col("line") + before).cast(pl.UInt32)) if before else frame


def map_blocks(
    source: Source,
    work: Callable[[Any], T],
    progress: Callable[[int], None] | None = None,
    boundary: bytes | Cutter = b"\n",
    raw: bool = False,
    chunks: int = 1,
    workers: int = WORKERS,
) -> tuple[list[tuple[int, T]], int]:
    """Apply `work` to each block's lines frame (`line` counted from 1 in the block, `raw`), or
    with `raw` to its bytes.

    Blocks are split and worked on by `workers` threads (polars releases the GIL), at most
    `workers + 1` blocks in flight, so memory follows the block size, not the input. Returns
    each block's result with the number of lines before the block, and the total line count.
    """
    results: list[tuple[int, T]] = []
    pending: deque[tuple[int, Future[tuple[int, T]]]] = deque()
    total = 0

    def collect(size: int, future: Future[tuple[int, T]]) -> None:
        nonlocal total
        height, result = future.result()
        results.append((total, result))
        total += height
        if progress is not None:
            progress(size)

    with ThreadPoolExecutor(workers) as pool:
        for piece in source.pieces(boundary, chunks):
            task = pool.submit(_raw_work if raw else _work, piece, source.path, work)
            pending.append((len(piece), task))
            while len(pending) > workers:
                collect(*pending.popleft())
        while pending:
            collect(*pending.popleft())
    return results, total


def _work(piece: Piece, path: str, work: Callable[[Any], T]) -> tuple[int, T]:
    """One block: split it into lines (one row per line, so the height is its line count)."""
    frame = split_lines(_bytes(piece), path)
    return frame.height, work(frame)


def _raw_work(piece: Piece, path: str, work: Callable[[Any], T]) -> tuple[int, T]:
    """One block worked on as bytes; its lines counted as `_split` would count them."""
    piece = _bytes(piece)
    lines = piece.count(b"\n") + (1 if piece and not piece.endswith(b"\n") else 0)
    return lines, work(piece)


def _bytes(piece: Piece) -> bytes:
    return piece.read() if isinstance(piece, Span) else piece


def split_lines(piece: bytes, path: str) -> pl.DataFrame:
    """A block's lines frame: `line` (1-based in the block), `raw`."""
    return _split(piece, path).with_row_index("line", offset=1)


def _split(piece: bytes, path: str) -> pl.DataFrame:
    """One block as a `raw` column, one row per line."""
    for separator in SEPARATORS:
        try:
            return pl.read_csv(
                io.BytesIO(piece),
                has_header=False,
                separator=separator,
                quote_char=None,
                new_columns=["raw"],
                schema={"raw": pl.String},
                encoding="utf8-lossy",
            )
        except (pl.exceptions.ShapeError, pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            continue  # the separator occurs in a line: try a rarer one
    # Every candidate separator byte occurs in some line: no text log is like that.
    raise ParseError(BINARY_HINT, Location(path))
