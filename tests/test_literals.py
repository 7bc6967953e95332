"""Literal-set matching: the fast regex alternation agrees with polars' `str.contains_any`."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.literals import contains_any, regex_literals

ALPHABET = st.sampled_from(list("ab .*+?()[]{}|^$\\-#&~ =:/\n\té"))


@given(
    texts=st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=12)), max_size=20),
    literals=st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=6),
)
def test_contains_any_is_polars_contains_any(texts: list[str | None], literals: list[str]) -> None:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    text = pl.col("text")
    got = frame.select(contains_any(text, literals))["text"].to_list()
    assert got == frame.select(text.str.contains_any(literals))["text"].to_list()


def test_no_literals_match_nothing_not_even_the_empty_text() -> None:
    frame = pl.DataFrame({"text": ["", "a", None]})
    assert frame.select(contains_any(pl.col("text"), []))["text"].to_list() == [False, False, None]


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"replies=0\b", ("replies=0",)),
        (r"state=processing age=(?P<age_s>\d+)s", ("state=processing age=",)),
        (r"waitedMs=(?P<w>\d+) queueAhead=(?P<q>\d+)", (" queueAhead=",)),  # the longest run
        (r"x\.y", ("x.y",)),  # an escaped punctuation character is itself
        ("ab+c", ("ab",)),  # `abbc` holds `ab`, not `abc`
        ("abc?d", ("ab",)),  # an optional character ends the run without it
        ("ab{0,3}cd", ("cd",)),
        ("a|bcd", ("a", "bcd")),  # one per branch of a top-level alternation
        ("[]a]bc", ("bc",)),
        (r"^(?:.*?ageMs=(?P<age_ms>\d+))?", None),  # only inside an optional group
        ("(?:eventLoopDelayMaxMs=|timer delayed )x?", None),
        ("ab|", None),  # the empty branch matches anywhere
        ("(?i)main process", None),  # flags are not modelled
        (r"(?-u:\b)foo", None),
        ("[[:alpha:]]x", None),  # nested classes are not modelled
        (r"\x41bc", None),
        (r"\<word", ("word",)),  # `\<` is a word start, not `<`
        ("", None),
    ],
)
def test_regex_literals_are_what_every_match_holds(
    pattern: str, literals: tuple[str, ...] | None
) -> None:
    assert regex_literals(pattern) == literals


ATOMS = ["a", "b", "ab", "ba", " ", "=", r"\.", ".", "[ab]", "[^a]", "(a|b)", "(?:ab)", "(?P<n>b)"]
OPERATORS = ["?", "*", "+", "{2}", "{0,2}", "{1,}", "??", "|", "^", "$", r"\b", r"\d"]
ODD = ["(", ")", "{", "]", "[]a]", r"\<", "(?i)"]
PIECES = st.sampled_from([*ATOMS, *OPERATORS, *ODD])


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, min_size=1, max_size=8), data=st.data())
def test_every_text_a_pattern_matches_holds_one_of_its_literals(
    pieces: list[str], data: st.DataObject
) -> None:
    # Texts drawn to match the pattern (Python's reading of it), kept where polars (Rust's
    # reading) agrees that they match.
    pattern = "".join(pieces)
    try:
        re.compile(pattern)
        pl.select(pl.lit("").str.contains(pattern))
    except (re.error, pl.exceptions.PolarsError):
        return  # not a pattern both dialects accept: nothing to check
    texts = data.draw(st.lists(st.from_regex(pattern), max_size=10))
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    matched = frame.filter(pl.col("text").str.contains(pattern))["text"].to_list()
    found = regex_literals(pattern)
    if found is not None:
        assert all(any(literal in text for literal in found) for text in matched)
