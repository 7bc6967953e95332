"""Sequence assembly per correlation key: ordered steps, counts, windows and absences.

A short Python loop over one rule's candidate hits (never over every line), feeding each key's
hits in time order through `Scan`. The semantics are documented in docs/rules.md.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from triage.episode import Episode, around_text, build_finding, session_label
from triage.findings import Finding, NearMiss
from triage.hits import Hit, human, join_keys, occurrences, time_gap
from triage.rules import Rule, Scope, Without


@dataclass(slots=True)
class _Run:
    """A sequence in progress for one key."""

    hits: list[list[Hit]]
    cur: int = 0
    bound: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Matched:
    """One rule sequence's findings (with their evidence rows) and near misses."""

    findings: list[Finding] = field(default_factory=list)
    rows: list[set[int]] = field(default_factory=list)
    """Evidence rows of each finding, in the same order."""
    keys: list[str] = field(default_factory=list)
    """Correlation key of each finding, in the same order."""
    misses: list[NearMiss] = field(default_factory=list)


def match_rule(rule: Rule, hits: list[Hit], ends: Mapping[str, datetime]) -> Matched:
    """Assemble one rule sequence per key over its candidate hits; `ends`: last time per file."""
    if rule.join is not None:
        hits = join_keys(hits, rule.by[0], rule.join)
    global_rows = [
        h for h in hits if any(rule.without[w].scope is Scope.GLOBAL for w in h.withouts)
    ]
    keyed: dict[str, list[Hit]] = {}
    nearby: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.key is not None:
            keyed.setdefault(hit.key, []).append(hit)
            if hit.around:
                nearby.setdefault(hit.key, []).append(hit)
    foreign = [h.breaker() for h in global_rows]
    foreign.sort(key=lambda h: h.order)
    orders = [h.order for h in foreign]
    matched = Matched()
    for key in sorted(keyed):
        scan = _Scan(rule, key, ends, nearby.get(key, []))
        _feed(scan, [h for h in keyed[key] if h.steps or h.withouts], foreign, orders)
        scan.finish()
        matched.findings += scan.matched.findings
        matched.rows += scan.matched.rows
        matched.keys += scan.matched.keys
        matched.misses += scan.matched.misses
    return matched


def _feed(
    scan: _Scan, own: list[Hit], foreign: list[Hit], orders: list[tuple[bool, datetime, int]]
) -> None:
    """Feed the key's own hits and, in time order among them, the other keys' global-scope
    hits (stripped of steps). A stripped hit only matters while a sequence is open (it can
    break it or end an absence), so the stretches with none open are skipped by bisection:
    the scan costs the key's hits, not keys x global hits."""
    j = 0
    for hit in sorted(own, key=lambda h: h.order):
        if scan.run is None:
            j = max(j, bisect.bisect_left(orders, hit.order))
        while j < len(foreign) and foreign[j].order < hit.order:
            if scan.run is None:
                j = bisect.bisect_left(orders, hit.order, j)
                break
            if foreign[j].key != scan.key:
                scan.feed(foreign[j])
            j += 1
        scan.feed(hit)
    while j < len(foreign) and scan.run is not None:
        if foreign[j].key != scan.key:
            scan.feed(foreign[j])
        j += 1


class _Scan:
    """Feeds one key's hits in time order through the rule's steps (see docs/rules.md)."""

    def __init__(
        self, rule: Rule, key: str, ends: Mapping[str, datetime], nearby: list[Hit]
    ) -> None:
        self.rule = rule
        self.key = key
        self.steps = rule.steps
        self.ends = ends
        self.nearby = nearby
        self.run: _Run | None = None
        self.group: list[_Run] = []
        """`repeat`: the complete sequences that may still add up to a finding."""
        self.matched = Matched()

    def feed(self, hit: Hit) -> None:
        """Advance the sequence with one hit."""
        if self.run is not None and self._absence_elapsed(self.run, hit):
            self._emit(self.run, None, None)
            self.run = None
        if self.run is not None:
            breaker = self._breaker(self.run, hit)
            if breaker is not None:
                self._close(self.run, hit, breaker)
                self.run = None
        if not hit.steps:
            return
        if self.run is None:
            self._start(hit)
        else:
            self._advance(self.run, hit)

    def finish(self) -> None:
        """End of the log: a complete sequence becomes a finding."""
        run = self.run
        if run is not None and self._complete(run):
            self._emit(run, None, None)
        elif run is not None and self._awaiting_absence(run):
            self._absence_at_end(run)
        self.run = None
        self._flush_group(at_end=True)

    def _absence_at_end(self, run: _Run) -> None:
        """An absence open at the end of the log fires, unless it waits for `within` to pass."""
        step, anchor = self.steps[-1], run.hits[run.cur][-1]
        end = self.ends.get(anchor.file)
        if step.fire_at_end or step.within is None:
            self._emit(run, None, None)
            return
        left = end - anchor.order[1] if end is not None and anchor.order[0] else None
        if left is not None and left >= step.within:
            self._emit(run, None, None)
            return
        after = f"the log ends {human(left)} after" if left is not None else "the log ends after"
        name = self.steps[run.cur].name
        window = human(step.within)
        self._miss(run, f"{after} '{name}' at {anchor.where()}, before its {window} window elapsed")

    def _awaiting_absence(self, run: _Run) -> bool:
        last = len(self.steps) - 1
        return self.steps[last].absent and run.cur == last - 1 and self._done(run, run.cur)

    def _absence_elapsed(self, run: _Run, hit: Hit) -> bool:
        limit = self.steps[-1].within
        if limit is None or not self._awaiting_absence(run):
            return False
        gap = time_gap(run.hits[run.cur][-1], hit)
        return gap is not None and gap > limit

    def _start(self, hit: Hit) -> None:
        if 0 in hit.steps:
            self.run = _Run(hits=[[] for _ in self.steps])
            self._add(self.run, 0, hit)

    def _advance(self, run: _Run, hit: Hit) -> None:
        i, nxt = run.cur, run.cur + 1
        if self.rule.repeat > 1 and self._complete(run) and 0 in hit.steps and i not in hit.steps:
            self._emit(run, None, None)  # `repeat`: the next sequence starts
            self._start(hit)
            return
        if self._awaiting_absence(run) and nxt in hit.steps and self._same(run, nxt, hit):
            self.run = None  # what must be absent happened in time: no finding
            return
        if (
            nxt < len(self.steps)
            and nxt in hit.steps
            and self._done(run, i)
            and self._same(run, nxt, hit)
        ):
            gap = time_gap(run.hits[i][-1], hit)
            limit = self.steps[nxt].within
            if limit is None or gap is None or gap <= limit:
                run.cur = nxt
                self._add(run, nxt, hit)
                return
            late = f"'{self.steps[nxt].name}' came {human(gap)} after '{self.steps[i].name}'"
            self._miss(run, f"{late} at {hit.where()}, beyond {human(limit)}")
            self.run = None
            self._start(hit)
        elif i in hit.steps and self._same(run, i, hit):
            window = self.steps[i].window
            if (
                self._complete(run)
                and window is not None
                and (time_gap(run.hits[i][-1], hit) or timedelta()) > window
            ):
                self._emit(run, None, None)
                self.run = None
                self._start(hit)
                return
            self._add(run, i, hit)

    def _add(self, run: _Run, index: int, hit: Hit) -> None:
        step = self.steps[index]
        if step.window is not None and not self._done(run, index):
            window = step.window  # not complete yet: only hits inside the window can count
            run.hits[index] = [
                h for h in run.hits[index] if (time_gap(h, hit) or timedelta()) <= window
            ]
        run.hits[index].append(hit)
        for name in (n for s in self.steps for n in s.same):
            if name not in run.bound and name in hit.values:
                run.bound[name] = hit.values[name]

    def _same(self, run: _Run, index: int, hit: Hit) -> bool:
        return all(
            run.bound.get(n) is None or hit.values.get(n) is None or run.bound[n] == hit.values[n]
            for n in self.steps[index].same
        )

    def _done(self, run: _Run, index: int) -> bool:
        step = self.steps[index]
        return occurrences(run.hits[index], step.merge) >= step.count

    def _complete(self, run: _Run) -> bool:
        return run.cur == len(self.steps) - 1 and self._done(run, run.cur)

    def _matched(self, run: _Run) -> int:
        return sum(1 for i in range(len(self.steps)) if run.hits[i] and self._done(run, i))

    def _breaker(self, run: _Run, hit: Hit) -> Without | None:
        last = len(self.steps) - 1
        for w_index in sorted(hit.withouts):
            w = self.rule.without[w_index]
            if w.scope is Scope.KEY and hit.key != self.key:
                continue
            opened = run.cur > w.between[0] or (
                run.cur == w.between[0] and self._done(run, run.cur)
            )
            still = run.cur < w.between[1] or w.between[1] == last
            if opened and still and hit.row not in {h.row for hs in run.hits for h in hs}:
                return w
        return None

    def _close(self, run: _Run, hit: Hit, breaker: Without) -> None:
        if self._complete(run):
            self._emit(run, hit, breaker)
        elif breaker.report and self._matched(run) >= 1:
            self._miss(run, f"broken by {breaker.name} at {hit.where()}")

    def _miss(self, run: _Run, reason: str, hits: list[Hit] | None = None) -> None:
        hits = hits if hits is not None else _flatten([run])
        self.matched.misses.append(NearMiss(
            rule=self.rule.id, session=session_label(self.rule, self.key, hits),
            matched_steps=self._matched(run), total_steps=len(self.steps), reason=reason,
            first=hits[0].ts if hits else None,
            evidence=tuple(h.evidence(self._step_name(h)) for h in hits),
        ))  # fmt: skip

    def _step_name(self, hit: Hit) -> str:
        return next((self.steps[i].name for i in sorted(hit.steps)), "")

    def _emit(self, run: _Run, closer: Hit | None, breaker: Without | None) -> None:
        if self.rule.repeat > 1:
            self._repeated(run)
            return
        hits = _flatten([run])
        episode = Episode(self.key, run.hits, hits, closer, breaker)
        self._found(episode)

    def _found(self, episode: Episode) -> None:
        around = around_text(self.rule, episode.hits, self.nearby)
        self.matched.findings.append(build_finding(self.rule, replace(episode, around=around)))
        self.matched.rows.append({h.row for h in episode.hits})
        self.matched.keys.append(self.key)

    def _repeated(self, run: _Run) -> None:
        """`repeat`: add a complete sequence to the group; a gap or another binding ends it."""
        window = self.rule.repeat_window
        start = run.hits[0][0]
        if self.group and not _compatible(self.group[0].bound, run.bound):
            self._flush_group(at_end=False)
        elif self.group and window is not None:
            complete = len(self.group) >= self.rule.repeat
            if complete and _age(self.group[-1], start) > window:
                self._flush_group(at_end=False)
            elif not complete:
                self.group = [
                    r
                    for r in self.group
                    if (time_gap(r.hits[0][0], start) or timedelta()) <= window
                ]
        self.group.append(run)

    def _flush_group(self, at_end: bool) -> None:
        group, self.group = self.group, []
        if len(group) >= self.rule.repeat:
            by_step = [[h for r in group for h in r.hits[i]] for i in range(len(self.steps))]
            self._found(Episode(self.key, by_step, _flatten(group), count=len(group)))
        elif at_end and len(group) >= 2:
            window = self.rule.repeat_window
            within = f" within {human(window)}" if window else ""
            names = " -> ".join(f"'{s.name}'" for s in self.steps)
            reason = f"{names} {len(group)} times{within}, fewer than {self.rule.repeat}"
            self._miss(group[-1], reason, _flatten(group))


def _flatten(runs: list[_Run]) -> list[Hit]:
    seen: dict[int, Hit] = {}
    for run in runs:
        for hits in run.hits:
            for h in hits:
                seen.setdefault(h.row, h)
    return sorted(seen.values(), key=lambda h: h.order)


def _age(run: _Run, now: Hit) -> timedelta:
    """Time from a complete sequence's first hit to `now`."""
    return time_gap(run.hits[0][0], now) or timedelta()


def _compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Bindings agree where both are known."""
    return all(a[n] == b[n] for n in a.keys() & b.keys() if a[n] is not None and b[n] is not None)
