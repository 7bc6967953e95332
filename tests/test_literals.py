"""Literal-set matching: the fast regex alternation agrees with polars' `str.contains_any`."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from triage.literals import contains_any

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
