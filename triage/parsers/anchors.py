"""Short substrings that every keep literal contains, rare in the input: a cheaper first scan.

The keep prefilter tests every line against all the rules' literals (about 80 built in). An
alternation of that many literals runs at the regex engine's automaton speed; one of some 30
short anchors runs on its SIMD literal search at about three times that. Every literal
contains an anchor, so a line holding a literal holds an anchor: the lines holding an anchor
(about 1 % of a busy gateway's) are then checked against the literals themselves, and the
answer is the same. Anchors are chosen rare in a sample of the input (its first bytes), so the
choice adapts to the input's traffic; a poor sample costs speed, never a line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

WIDTH = 4
"""Anchor length: short enough that many literals share one, long enough to be rare."""
MIN_LITERALS = 32
"""Below this many literals the engine's own literal search is as fast: no anchors."""
SAMPLE = 64 * 1024
"""Characters of the sample whose windows are counted."""


def choose(literals: Sequence[str], sample: str, width: int = WIDTH) -> tuple[str, ...]:
    """Anchors covering `literals` (each contains at least one), rare in `sample`.

    Greedy weighted set cover over each literal's `width`-character windows (a shorter
    literal is its own window): repeatedly take the window with the fewest sample occurrences
    per literal it newly covers. Returns () when there are too few literals to gain.
    """
    if len(literals) < MIN_LITERALS:
        return ()
    sample = sample[:SAMPLE]
    covers: dict[str, set[str]] = {}
    for literal in literals:
        for start in range(max(len(literal) - width, 0) + 1):
            covers.setdefault(literal[start : start + width], set()).add(literal)
    seen = Counter(sample[i : i + width] for i in range(len(sample) - width + 1))
    counts = {window: seen[window] for window in covers}
    left = set(literals)
    chosen: list[str] = []
    while left:
        best = min(
            (w for w in covers if covers[w] & left),
            key=lambda w: ((counts[w] + 1) / len(covers[w] & left), w),
        )
        chosen.append(best)
        left -= covers[best]
    return tuple(sorted(chosen))
