"""Rule matching: ordered steps per correlation key, with counts, windows and absences.

Shape, chosen for speed: each rule's step and `without` predicates are polars expressions
evaluated over the whole events frame in one `select` (`str.contains_any`, `str.contains`,
`str.extract_groups`, `pl.when`). Only the candidate hits (rows where some predicate holds, a
tiny share of a log) leave polars. Sequences are then assembled per key by a Python loop over
those few candidate hits, never over all lines. The semantics are documented in docs/rules.md.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from triage.events import EVENT_SCHEMA
from triage.findings import Evidence, Finding, NearMiss, sort_findings
from triage.rules import Cond, FieldMatch, Op, Rule, RuleSet, Scope, Step, Without

_STRINGY = (pl.String, pl.Enum, pl.Categorical)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What `match` found: findings (unlinked) and near misses."""

    findings: tuple[Finding, ...]
    near_misses: tuple[NearMiss, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """One candidate event: which steps and withouts it satisfies, and its values."""

    row: int
    order: tuple[bool, datetime, int]
    ts: datetime | None
    file: str
    line: int
    text: str
    duplicate: bool
    key: str | None
    steps: frozenset[int]
    withouts: frozenset[int]
    values: dict[str, Any] = field(default_factory=dict)

    def evidence(self, step: str = "") -> Evidence:
        """This hit as citable evidence."""
        return Evidence(path=self.file, line=self.line, ts=self.ts, text=self.text, step=step)

    def where(self) -> str:
        """`HH:MM:SS (file:line)` for reasons."""
        return f"{_clock(self.ts)} ({self.file}:{self.line})"


def match(events: pl.DataFrame, rules: RuleSet) -> MatchResult:
    """Run every rule over the events frame (EVENT_SCHEMA); rules explained by others go after."""
    frame = _prepare(events)
    findings: list[Finding] = []
    misses: list[NearMiss] = []
    used: dict[str, set[int]] = {}
    for rule in rules.rules:
        excluded = set().union(*(used.get(r, set()) for r in rule.explained_by))
        hits = candidates(frame, rule, excluded)
        found, near, rows = _match_rule(rule, hits)
        findings += found
        misses += near
        used[rule.id] = rows
    misses.sort(key=lambda m: (m.rule, m.session, m.first or datetime.min.replace(tzinfo=None)))
    return MatchResult(tuple(sort_findings(findings)), tuple(misses))


ADOPT_WITHIN = timedelta(seconds=5)
ADOPTED = ("session", "unit")
"""Columns an event without a value takes from the nearest event of its file within 5 s."""


def _prepare(events: pl.DataFrame) -> pl.DataFrame:
    # Events without `ts` take their place by file position: the nearest earlier stamp.
    ots = pl.col("ts").forward_fill().backward_fill().over("file")
    frame = events.with_row_index("__row").with_columns(ots.alias("__ots"))
    return frame.with_columns(_adopted(name).alias(name) for name in ADOPTED)


def _adopted(name: str) -> pl.Expr:
    """A lone line (`failed before reply`, `lane=main` of a pair, a V8 abort) joins its neighbour.

    The value comes from the nearest earlier event with one within ADOPT_WITHIN in the same
    file (a consequence follows its cause), else from the nearest later one within it.
    """
    value, at = pl.col(name), pl.col("__ots")
    known_at = pl.when(value.is_not_null()).then(at)
    before = (at - known_at.forward_fill().over("file")).fill_null(timedelta.max)
    after = (known_at.backward_fill().over("file") - at).fill_null(timedelta.max)
    take_before = before <= ADOPT_WITHIN
    take_after = after <= ADOPT_WITHIN
    return pl.coalesce(
        value,
        pl.when(take_before).then(value.forward_fill().over("file")),
        pl.when(take_after).then(value.backward_fill().over("file")),
    )


def candidates(frame: pl.DataFrame, rule: Rule, excluded: Iterable[int] = ()) -> list[Hit]:
    """The rows some step or `without` of `rule` matches, in time order, as Hits."""
    captures = [_captures(step) for step in rule.steps]
    step_preds = [
        _all(_field(m, caps) for m in s.matches)
        for s, caps in zip(rule.steps, captures, strict=True)
    ]
    excluded = list(excluded)
    if excluded:
        keep = ~pl.col("__row").is_in(excluded)
        step_preds = [p & keep for p in step_preds]
    without_preds = [_all(_field(m, {}) for m in w.matches) for w in rule.without]
    names = _value_names(rule)
    values = [_value(name, step_preds, captures).alias(f"v:{name}") for name in names]
    key = pl.coalesce([_value(n, step_preds, captures).cast(pl.String) for n in rule.by])
    selected = frame.select(
        "__row", "__ots", "file", "line", "ts", "message", "duplicate", key.alias("__key"),
        *[p.alias(f"s{i}") for i, p in enumerate(step_preds)],
        *[p.alias(f"w{i}") for i, p in enumerate(without_preds)],
        *values,
    ).filter(pl.any_horizontal(pl.col(r"^[sw]\d+$")))  # fmt: skip
    hits = [
        _hit(row, len(step_preds), len(without_preds), names)
        for row in selected.iter_rows(named=True)
    ]
    return sorted(hits, key=lambda h: h.order)


def _hit(row: dict[str, Any], nsteps: int, nwithout: int, names: Sequence[str]) -> Hit:
    ots = row["__ots"]
    return Hit(
        row=row["__row"],
        order=(ots is not None, ots or datetime.min, row["__row"]),
        ts=row["ts"],
        file=row["file"] or "",
        line=row["line"] or 0,
        text=row["message"] or "",
        duplicate=bool(row["duplicate"]),
        key=row["__key"],
        steps=frozenset(i for i in range(nsteps) if row[f"s{i}"]),
        withouts=frozenset(i for i in range(nwithout) if row[f"w{i}"]),
        values={n: row[f"v:{n}"] for n in names if row[f"v:{n}"] is not None},
    )


def _value_names(rule: Rule) -> list[str]:
    names = {n for s in rule.steps for n in s.same} | set(rule.details) | {"age_ms"}
    for template in (*rule.session, rule.summary):
        names |= {f.split(":")[0] for _, f, _, _ in string.Formatter().parse(template) if f}
    names |= {n.removesuffix("_max") for n in names}
    known = set(EVENT_SCHEMA) | {c for s in rule.steps for c in s.captures()}
    return sorted(names & known)


def _value(name: str, preds: Sequence[pl.Expr], captures: Sequence[dict[str, pl.Expr]]) -> pl.Expr:
    """A column or capture: the capture of whichever step matched, else the column."""
    parts: list[pl.Expr] = [
        pl.when(p).then(c[name]) for p, c in zip(preds, captures, strict=True) if name in c
    ]
    if name in EVENT_SCHEMA:
        parts.append(pl.col(name).cast(pl.String))
    return pl.coalesce(parts) if parts else pl.lit(None, dtype=pl.String)


def _captures(step: Step) -> dict[str, pl.Expr]:
    caps: dict[str, pl.Expr] = {}
    for m in step.matches:
        for c in m.conds:
            if c.op is Op.REGEX:
                groups = pl.col(m.field).str.extract_groups(c.value)
                for name in m.captures():
                    caps.setdefault(name, groups.struct.field(name))
    return caps


def _field(m: FieldMatch, caps: dict[str, pl.Expr]) -> pl.Expr:
    dtype: pl.DataType = pl.String() if m.field in caps else EVENT_SCHEMA[m.field]
    target = caps.get(m.field, pl.col(m.field))
    return _all(_cond(target, dtype, c) for c in m.conds)


def _all(exprs: Iterable[pl.Expr]) -> pl.Expr:
    items = list(exprs)
    return pl.all_horizontal(items).fill_null(False) if items else pl.lit(True)


def _cond(target: pl.Expr, dtype: pl.DataType, c: Cond) -> pl.Expr:
    stringy = isinstance(dtype, _STRINGY)
    text = target.cast(pl.String) if stringy else target
    if c.op is Op.EQUALS:
        expr = text == (str(c.value) if stringy else c.value)
    elif c.op is Op.REGEX:
        expr = text.str.contains(c.value)
    elif c.op is Op.PREFIX:
        expr = text.str.starts_with(c.value)
    elif c.op is Op.CONTAINS:
        expr = text.str.contains_any(list(c.value))
    elif c.op is Op.IN:
        expr = text.is_in([str(v) for v in c.value] if stringy else list(c.value))
    elif c.op is Op.NOT:
        expr = ~_all(_cond(target, dtype, i) for i in c.inner)
    elif c.op is Op.ANY:
        expr = pl.any_horizontal([_cond(target, dtype, i) for i in c.inner])
    elif c.op is Op.ALL:
        expr = _all(_cond(target, dtype, i) for i in c.inner)
    else:
        number = target.cast(pl.Float64, strict=False)
        compare = {Op.EQ: number.__eq__, Op.GT: number.__gt__, Op.GTE: number.__ge__,
                   Op.LT: number.__lt__, Op.LTE: number.__le__}[c.op]  # fmt: skip
        expr = compare(c.value)
    return expr.fill_null(False)


# --- sequence assembly per key ------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """A sequence in progress for one key."""

    hits: list[list[Hit]]
    cur: int = 0
    bound: dict[str, Any] = field(default_factory=dict)


def _match_rule(rule: Rule, hits: list[Hit]) -> tuple[list[Finding], list[NearMiss], set[int]]:
    global_rows = [
        h for h in hits if any(rule.without[w].scope is Scope.GLOBAL for w in h.withouts)
    ]
    keyed: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.key is not None:
            keyed.setdefault(hit.key, []).append(hit)
    findings: list[Finding] = []
    misses: list[NearMiss] = []
    rows: set[int] = set()
    for key in sorted(keyed):
        stream = _merge_global(keyed[key], global_rows, key)
        scan = _Scan(rule, key)
        for hit in stream:
            scan.feed(hit)
        scan.finish()
        findings += scan.findings
        misses += scan.misses
        rows |= scan.used
    return findings, misses, rows


def _merge_global(own: list[Hit], global_rows: list[Hit], key: str) -> list[Hit]:
    foreign = [
        Hit(
            h.row,
            h.order,
            h.ts,
            h.file,
            h.line,
            h.text,
            h.duplicate,
            h.key,
            frozenset(),
            h.withouts,
        )
        for h in global_rows
        if h.key != key
    ]
    return sorted(own + foreign, key=lambda h: h.order)


class _Scan:
    """Feeds one key's hits in time order through the rule's steps (see docs/rules.md)."""

    def __init__(self, rule: Rule, key: str) -> None:
        self.rule = rule
        self.key = key
        self.steps = rule.steps
        self.run: _Run | None = None
        self.findings: list[Finding] = []
        self.misses: list[NearMiss] = []
        self.used: set[int] = set()

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
        if self.run is not None and (self._complete(self.run) or self._awaiting_absence(self.run)):
            self._emit(self.run, None, None)  # an absence holds until the end of the log
        self.run = None

    def _awaiting_absence(self, run: _Run) -> bool:
        last = len(self.steps) - 1
        return self.steps[last].absent and run.cur == last - 1 and self._done(run, run.cur)

    def _absence_elapsed(self, run: _Run, hit: Hit) -> bool:
        limit = self.steps[-1].within
        if limit is None or not self._awaiting_absence(run):
            return False
        gap = _gap(run.hits[run.cur][-1], hit)
        return gap is not None and gap > limit

    def _start(self, hit: Hit) -> None:
        if 0 in hit.steps:
            self.run = _Run(hits=[[] for _ in self.steps])
            self._add(self.run, 0, hit)

    def _advance(self, run: _Run, hit: Hit) -> None:
        i, nxt = run.cur, run.cur + 1
        if self._awaiting_absence(run) and nxt in hit.steps and self._same(run, nxt, hit):
            self.run = None  # what must be absent happened in time: no finding
            return
        if (
            nxt < len(self.steps)
            and nxt in hit.steps
            and self._done(run, i)
            and self._same(run, nxt, hit)
        ):
            gap = _gap(run.hits[i][-1], hit)
            limit = self.steps[nxt].within
            if limit is None or gap is None or gap <= limit:
                run.cur = nxt
                self._add(run, nxt, hit)
                return
            late = f"'{self.steps[nxt].name}' came {_human(gap)} after '{self.steps[i].name}'"
            self._miss(run, f"{late} at {hit.where()}, beyond {_human(limit)}")
            self.run = None
            self._start(hit)
        elif i in hit.steps and self._same(run, i, hit):
            window = self.steps[i].window
            if (
                self._complete(run)
                and window is not None
                and (_gap(run.hits[i][-1], hit) or timedelta()) > window
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
                h for h in run.hits[index] if (_gap(h, hit) or timedelta()) <= window
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

    def _miss(self, run: _Run, reason: str) -> None:
        hits = _flatten(run)
        self.misses.append(NearMiss(
            rule=self.rule.id, session=_session_label(self.rule, self.key, hits),
            matched_steps=self._matched(run), total_steps=len(self.steps), reason=reason,
            first=hits[0].ts if hits else None,
            evidence=tuple(h.evidence(self._step_name(h)) for h in hits),
        ))  # fmt: skip

    def _step_name(self, hit: Hit) -> str:
        return next((self.steps[i].name for i in sorted(hit.steps)), "")

    def _emit(self, run: _Run, closer: Hit | None, breaker: Without | None) -> None:
        hits = _flatten(run)
        self.used.update(h.row for h in hits)
        self.findings.append(_finding(self.rule, self.key, run.hits, hits, closer, breaker))


def _flatten(run: _Run) -> list[Hit]:
    seen: dict[int, Hit] = {}
    for hits in run.hits:
        for h in hits:
            seen.setdefault(h.row, h)
    return sorted(seen.values(), key=lambda h: h.order)


def occurrences(hits: Sequence[Hit], merge: timedelta | None) -> int:
    """Distinct occurrences: duplicates excluded, hits within `merge` of the last one merged."""
    count = 0
    last: Hit | None = None
    for hit in hits:
        if hit.duplicate:
            continue
        gap = _gap(last, hit)
        if last is None or merge is None or gap is None or gap > merge:
            count += 1
            last = hit
    return count


def _gap(a: Hit | None, b: Hit) -> timedelta | None:
    if a is None or not a.order[0] or not b.order[0]:
        return None
    return abs(b.order[1] - a.order[1])


def _iso(ts: datetime | None) -> str:
    return ts.isoformat() if ts else "?"


def _clock(ts: datetime | None) -> str:
    return ts.strftime("%H:%M:%S") if ts else "?"


def _human(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"


def _session_label(rule: Rule, key: str, hits: Sequence[Hit]) -> str:
    values: dict[str, Any] = {}
    for hit in hits:
        for name, value in hit.values.items():
            values.setdefault(name, value)
    values["key"] = key
    for template in rule.session:
        try:
            return template.format_map(values)
        except KeyError:
            continue
    return key


def _finding(
    rule: Rule,
    key: str,
    by_step: list[list[Hit]],
    hits: list[Hit],
    closer: Hit | None,
    breaker: Without | None,
) -> Finding:
    """Build the finding of one complete sequence, its summary and details."""
    stamps = [h.ts for h in hits if h.ts is not None]
    first, last = (min(stamps), max(stamps)) if stamps else (None, None)
    count_step = rule.steps[rule.count_step]
    count = occurrences(by_step[rule.count_step], count_step.merge)
    held = _held_for(hits, first, last)
    cleared = (
        f"cleared by {breaker.name} at {closer.where()}"
        if closer and breaker
        else ("not cleared within the log")
    )
    facts: dict[str, Any] = dict(rule.params)
    for hit in hits:
        for name, value in hit.values.items():
            facts.setdefault(name, value)
            number = _number(value)
            if number is not None and (facts.get(f"{name}_max") or -1.0) < number:
                facts[f"{name}_max"] = number
    facts.update(
        count=count, first=_clock(first), last=_clock(last), key=key, cleared=cleared,
        duration=_human(last - first) if first and last else "?",
        held_for=_human(held) if held is not None else "?",
    )  # fmt: skip
    details = []
    for name in rule.details:
        if name == "cleared_by":
            if closer is not None:
                details.append(
                    (
                        name,
                        f"{_iso(closer.ts)} {closer.file}:{closer.line}",
                    )
                )
        elif name in facts and facts[name] != "?":
            details.append((name, str(facts[name])))
    names = {i: s.name for i, s in enumerate(rule.steps)}
    return Finding(
        rule=rule.id, severity=rule.severity, title=rule.title,
        session=_session_label(rule, key, hits), first=first, last=last, count=count,
        summary=_render(rule.summary, facts), explain=rule.explain, details=tuple(details),
        evidence=tuple(h.evidence(next((names[i] for i in sorted(h.steps)), "")) for h in hits),
    )  # fmt: skip


def _held_for(hits: list[Hit], first: datetime | None, last: datetime | None) -> timedelta | None:
    """From the first hit (or the lock's age where a hit reports `age_ms`) to the last hit."""
    if first is None or last is None:
        return None
    since = first
    for hit in hits:
        age = hit.values.get("age_ms")
        if hit.ts is not None and age is not None:
            try:
                since = min(since, hit.ts - timedelta(milliseconds=float(age)))
            except ValueError:
                continue
    return last - since


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _render(template: str, facts: dict[str, Any]) -> str:
    class _Missing(dict[str, Any]):
        def __missing__(self, name: str) -> str:
            return "?"

    return template.format_map(_Missing(facts))
