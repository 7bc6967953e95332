"""DESIGN.md's reference probe: polars streaming, a literal prefilter, then regex extraction.

    python benchmarks/polars_probe.py FILE

DESIGN.md quotes this shape at 887 MB/s on its reference machine. Run on the same file as the
other peers, it tells how fast this machine is compared with that one, so the end-to-end target
(300 MB/s there) can be read for the machine at hand. It reads every line with polars' streaming
CSV reader (one column, no quoting), keeps the lines holding a catalogue phrase
(`phrases.txt`), extracts the session key and id from those, and prints how many it kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

PHRASES = Path(__file__).resolve().parent / "phrases.txt"
TOKEN = r"[^\s,;\"')\]]+"


def probe(path: str) -> int:
    """Lines holding a phrase, with session key and id extracted (the count is printed)."""
    phrases = [p for p in PHRASES.read_text(encoding="utf-8").splitlines() if p]
    raw = pl.col("raw")
    lines = pl.scan_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["raw"],
        schema={"raw": pl.String},
        encoding="utf8-lossy",
    )
    kept = lines.filter(raw.str.contains_any(phrases)).select(
        key=raw.str.extract(r"sessionKey=(" + TOKEN + ")"),
        id=raw.str.extract(r"sessionId=(" + TOKEN + ")"),
    )
    return kept.collect(engine="streaming").height


if __name__ == "__main__":
    print(probe(sys.argv[1]))
