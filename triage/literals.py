"""Any-of-these-substrings tests as polars expressions, fast.

polars' `str.contains_any` (Aho-Corasick) measured 10-15x slower than its regex `str.contains`
over an escaped alternation of the same literals (polars 2.1: four literals over 49 k messages,
27 ms against 1.8 ms): the regex engine searches a literal set with SIMD (Teddy). Same results,
including null for a null text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

NOTHING = r"[^\s\S]"
"""A regex no text matches (`$^` matches the empty one)."""


def alternation(literals: Iterable[str]) -> str:
    """A regex matching where any of `literals` occurs (nothing when there are none)."""
    escaped = [re.escape(k) for k in dict.fromkeys(literals)]
    return "|".join(escaped) if escaped else NOTHING


def contains_any(text: pl.Expr, literals: Iterable[str]) -> pl.Expr:
    """Whether `text` holds any of `literals`, as `str.contains_any` but faster."""
    return text.str.contains(alternation(literals))
