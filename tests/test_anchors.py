"""Anchors: every keep literal holds one, they are rare in the sample, and they change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.parsers import parse
from triage.parsers.anchors import MIN_LITERALS, choose
from triage.parsers.base import ParseOptions
from triage.pipeline import _with_prefilter
from triage.rules import load_rules

MANY = [f"event {n:02d} failed" for n in range(MIN_LITERALS)]


def test_few_literals_get_no_anchors() -> None:
    assert choose(MANY[:-1], "") == ()


def test_a_window_shared_by_every_literal_and_rare_in_the_sample_is_the_one_anchor() -> None:
    sample = "event 01 ok\nevent 02 ok\n" * 50  # "even", "vent", "nt 0" are common here
    assert choose(MANY, sample) == (" fai",)  # the first, in text order, of the rarest windows


def test_common_windows_are_passed_over_for_rarer_ones() -> None:
    literals = [f"{word} timed out" for word in ("fetch", "READY", "LLM", "abort")] * 8
    literals = [f"{literal} #{n}" for n, literal in enumerate(literals)]
    sample = "timed out " * 1000 + "med " * 1000
    anchors = choose(literals, sample)
    assert all(any(a in literal for a in anchors) for literal in literals)
    assert not any(a in "timed out " for a in anchors)


@given(
    literals=st.lists(st.text("abc xyz", min_size=1, max_size=12), min_size=32, max_size=60),
    sample=st.text("abc xyz\n", max_size=300),
)
def test_every_literal_contains_an_anchor(literals: list[str], sample: str) -> None:
    anchors = choose(literals, sample)
    assert anchors
    assert all(any(a in literal for a in anchors) for literal in literals)


def line(n: int, body: str) -> str:
    stamp = f"2026-05-19T13:{n // 60:02d}:{n % 60:02d}"
    return f"{stamp}+00:00 h node[1]: {stamp}.250+00:00 [gateway] {body}"


@pytest.mark.parametrize("chunk", [64 * 1024 * 1024, 4096])
def test_anchored_prefilter_reads_exactly_what_the_plain_one_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    bodies = [
        "Compaction timed out for sessionKey=agent:main:a",  # a keep literal
        "compaction is fine, sessionId=s1",  # holds anchors of literals, no literal
        "lane task done: lane=session:agent:main:a durationMs=5",  # tallied
        "outcome=ok sessionId=s2",  # a short keep literal
        "nothing here",
    ]
    path = tmp_path / "x.log"
    path.write_text("\n".join(line(n, bodies[n % len(bodies)]) for n in range(400)) + "\n")
    options = _with_prefilter(ParseOptions(), load_rules())
    assert options.keep is not None and len(options.keep) >= MIN_LITERALS
    monkeypatch.setattr("triage.parsers.reader.CHUNK", chunk)
    plain = parse(str(path), options)
    monkeypatch.setattr("triage.parsers.ANCHOR_BYTES", 0)
    anchored = parse(str(path), options)
    assert anchored.summary == plain.summary
    assert anchored.events.equals(plain.events)
    assert anchored.tally.equals(plain.tally)
    assert anchored.pairs.equals(plain.pairs)
    assert anchored.events.height == 80 * 2 + 1  # the literal lines and the last entry


KEEP = tuple(sorted({*(f"compaction {w}" for w in ("failed", "retry", "start")), "timed out",
                     "outcome=", "ready", "SIGTERM", "lane wait exceeded", "Started ",
                     *(f"status={n}" for n in range(20, 46))}))  # fmt: skip
WORDS = ["compaction", "failed", "retry", "timed", "out", "outcome", "=", "ready", "SIG",
         "TERM", "lane", "wait", "status=3", "Started", "sessionId=s1", "é", " ", "  "]  # fmt: skip


@given(bodies=st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map("".join), max_size=40))
def test_anchored_block_equals_plain_block(bodies: list[str]) -> None:
    import polars as pl

    from triage.parsers.tally import Prefilter

    assert len(KEEP) >= MIN_LITERALS
    raw = [line(n, body) for n, body in enumerate(bodies)] + ["  a continuation", ""]
    frame = pl.DataFrame({"raw": raw}).with_row_index("line", offset=1)
    hard = r"^\d{4}-\d\d-\d\dT\S+ h node\[1\]: "
    plain = Prefilter(KEEP, hard, journal=True).block(frame)
    anchors = choose(KEEP, "compaction timed out\n" * 20 + "".join(bodies))
    anchored = Prefilter(KEEP, hard, journal=True, anchors=anchors).block(frame)
    assert anchored.lines.equals(plain.lines)
    assert anchored.groups.sort(pl.all()).equals(plain.groups.sort(pl.all()))
    assert anchored.last.equals(plain.last)
