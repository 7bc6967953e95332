"""`split_gateway_message` reads stamp, tag and message exactly as one capture-group regex does.

The split is written capture-free for speed (an anchored head match, then stamp and tag read from
that short text); the reference below is the plain regex with named groups it replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from triage.events import PARSED_SCHEMA
from triage.parsers.classify import ISO
from triage.parsers.gateway_line import level_word, parse_iso, split_gateway_message, strip_ansi

REFERENCE = (
    rf"(?s)^(?:(?P<iso>{ISO})\s+|\d\d:\d\d:\d\d(?:\.\d{{3}})?\s+)?"
    r"(?:\[(?P<tag>[A-Za-z][\w./:@-]*)\](?: +|$))?(?P<rest>.*)$"
)
OUTER = datetime(2026, 1, 1, tzinfo=UTC)


def reference(df: pl.DataFrame) -> pl.DataFrame:
    """The split as one regex with capture groups."""
    parts = strip_ansi(pl.col("message")).str.extract_groups(REFERENCE)
    split = df.with_columns(p=parts).unnest("p").with_columns(tag_level=level_word(pl.col("tag")))
    return split.select(
        ts=pl.coalesce(parse_iso(pl.col("iso")), pl.col("ts")),
        subsystem=pl.when(pl.col("tag_level").is_null()).then(pl.col("tag")),
        level=pl.coalesce(pl.col("tag_level"), pl.col("level")),
        message=pl.coalesce(pl.col("rest"), pl.col("message")),
    )


def frame(messages: list[str | None]) -> pl.DataFrame:
    n = len(messages)
    return pl.DataFrame(
        {"message": messages, "ts": [OUTER] * n, "level": ["info"] * n},
        schema={"message": pl.String, "ts": PARSED_SCHEMA["ts"], "level": PARSED_SCHEMA["level"]},
    )


PARTS = [
    "2026-05-19T13:43:45.077+00:00",
    "2026-05-19T13:43:45Z",
    "2026-05-19T13:43:45+0800",
    "2026-05-19T13:43:45.1234567-03:30",
    "2026-13-45T99:99:99+00:00",  # a stamp's shape, not a time
    "13:43:45",
    "13:43:45.077",
    "[diagnostic]",
    "[agent/embedded]",
    "[warn]",
    "[Error]",
    "[1tag]",
    "[]",
    "\x1b[31m",
    "\x1b[0m",
    "[33m",
    " ",
    "  ",
    "\t",
    "\n",
    "\u00a0",
    "\u2003",
    "lane=main",
    "é",
    "x",
    ":",
    "]",
    "[",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PARTS), max_size=7).map("".join), max_size=20))
@example(["2026-05-19T13:43:45.077+00:00 [diagnostic] lane task error: lane=main"])
@example(["2026-05-19T13:43:45Z\u00a0[x]  rest", "13:43:45 [warn]", "[tag]", "", "x [y] z"])
@example(["\x1b[31m2026-05-19T13:43:45Z\x1b[0m  [diagnostic] é"])
def test_the_split_equals_the_capture_group_reference(messages: list[str]) -> None:
    df = frame([*messages, None])
    got = split_gateway_message(df).select("ts", "subsystem", "level", "message")
    assert got.to_dicts() == reference(df).to_dicts()
