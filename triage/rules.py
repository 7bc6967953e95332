"""Rule model and TOML loader: typed rules, every error of every file gathered at once.

The language is documented in docs/rules.md. This module only validates and builds values;
`triage.engine` turns the matchers into polars expressions and runs them.
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl

from triage.errors import Location, RuleError, RuleErrors
from triage.events import EVENT_SCHEMA
from triage.findings import Explain, Severity

COLUMNS = tuple(EVENT_SCHEMA)
TEXT_COLUMNS = ("message", "error")
"""Columns whose literals appear in the raw entry text, so they can feed the prefilter."""
SUMMARY_FIELDS = ("count", "first", "last", "duration", "key", "held_for", "cleared")
DETAIL_FIELDS = ("held_for", "cleared_by")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PARAM_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class Op(StrEnum):
    """Matcher operators: the one-key tables of a field matcher (`{ regex = "…" }`)."""

    EQUALS = "equals"  # a bare value
    ALL = "all"  # a table with several operators (internal: AND of its parts)
    REGEX = "regex"
    PREFIX = "prefix"
    CONTAINS = "contains"
    IN = "in"
    NOT = "not"
    ANY = "any"
    EQ = "eq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


NUMERIC_OPS = (Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE)
TABLE_OPS = tuple(op for op in Op if op not in (Op.EQUALS, Op.ALL))


class Scope(StrEnum):
    """Where a `without` event is looked for: the same correlation key, or anywhere."""

    KEY = "key"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition on a value; `inner` holds the operands of `not`, `any` and `all`."""

    op: Op
    value: Any = None
    inner: tuple[Cond, ...] = ()

    def literals(self) -> tuple[str, ...] | None:
        """Literal texts one of which must occur when this condition holds, if known."""
        if self.op is Op.CONTAINS or self.op is Op.IN:
            return tuple(str(v) for v in self.value)
        if self.op in (Op.PREFIX, Op.EQUALS) and isinstance(self.value, str):
            return (self.value,)
        if self.op is Op.ALL:
            return next((lits for c in self.inner if (lits := c.literals())), None)
        if self.op is Op.ANY:
            alts = [c.literals() for c in self.inner]
            if all(alts):
                return tuple(sorted({lit for alt in alts for lit in alt or ()}))
        return None

    def __str__(self) -> str:
        if self.op is Op.EQUALS:
            return repr(self.value)
        if self.op is Op.ALL:
            return " and ".join(str(c) for c in self.inner)
        if self.op in (Op.NOT, Op.ANY):
            return f"{self.op}({', '.join(str(c) for c in self.inner)})"
        return f"{self.op} {self.value!r}"


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """All conditions on one column or capture (AND)."""

    field: str
    conds: tuple[Cond, ...]

    def captures(self) -> tuple[str, ...]:
        """Names of the named groups of this matcher's top-level regexes."""
        return tuple(
            name for c in self.conds if c.op is Op.REGEX for name in re.compile(c.value).groupindex
        )

    def literals(self) -> tuple[str, ...] | None:
        """The first top-level condition's literals (one of them occurs on every match)."""
        return next((lits for c in self.conds if (lits := c.literals())), None)

    def __str__(self) -> str:
        return f"{self.field} {' and '.join(str(c) for c in self.conds)}"


@dataclass(frozen=True, slots=True)
class Step:
    """One ordered step: field matchers plus how many hits, how soon, agreeing on what."""

    name: str
    matches: tuple[FieldMatch, ...]
    count: int = 1
    """At least this many occurrences (duplicates excluded, `merge` applied)."""
    within: timedelta | None = None
    """Max gap from the previous step's last hit to this step's first hit (inclusive)."""
    window: timedelta | None = None
    """The `count` occurrences must fall inside this sliding window (inclusive)."""
    merge: timedelta | None = None
    """Hits at most this far from the previous counted hit are the same occurrence."""
    same: tuple[str, ...] = ()
    """Columns or captures whose value must equal the value an earlier hit bound."""
    absent: bool = False
    """The last step only: the rule fires when this does NOT happen within `within`."""

    def captures(self) -> tuple[str, ...]:
        """Names captured by this step's top-level regexes."""
        return tuple(n for m in self.matches for n in m.captures())


@dataclass(frozen=True, slots=True)
class Without:
    """Events that must not occur between two steps; one that does breaks the sequence."""

    name: str
    between: tuple[int, int]
    """Step indexes (0-based) of the opening and the closing step."""
    matches: tuple[FieldMatch, ...]
    scope: Scope = Scope.KEY
    report: bool = True
    """Report a sequence broken by this event as a near miss."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule: what to match per key, and how to explain a finding."""

    id: str
    title: str
    severity: Severity
    by: tuple[str, ...]
    """Correlation key: the first non-null of these columns or captures."""
    steps: tuple[Step, ...]
    explain: Explain
    path: str = ""
    description: str = ""
    without: tuple[Without, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    session: tuple[str, ...] = ()
    """Templates for the finding's `session`; the first whose fields are all known wins."""
    summary: str = "{count} occurrence(s) from {first} to {last}"
    details: tuple[str, ...] = ()
    explained_by: tuple[str, ...] = ()
    """Rules whose findings' evidence this rule must not reuse (cause before symptom)."""
    count_step: int = -1
    """Index of the step whose occurrences are the finding's `count` (default: the last)."""
    keep: tuple[str, ...] = ()
    """Extra literals the reader must keep: context lines that lend a key to their neighbours."""

    def literals(self) -> tuple[str, ...] | None:
        """Literals every step and `without` needs, or None if one of them has no literal."""
        found: set[str] = set(self.keep)
        for matches in [s.matches for s in self.steps] + [w.matches for w in self.without]:
            lits = next(
                (m.literals() for m in matches if m.field in TEXT_COLUMNS and m.literals()), None
            )
            if lits is None:
                return None
            found.update(lits)
        return tuple(sorted(found))

    def describe(self) -> str:
        """A human description for `triage explain`."""
        lines = [f"{self.id} ({self.severity}): {self.title}", ""]
        if self.description:
            lines += [self.description.strip(), ""]
        lines.append(f"per {' / '.join(self.by)}; steps in order:")
        for i, step in enumerate(self.steps, 1):
            extra = f" (at least {step.count})" if step.count > 1 else ""
            lines.append(f"  {i}. {step.name}{extra}: {'; '.join(str(m) for m in step.matches)}")
        for w in self.without:
            a, b = self.steps[w.between[0]].name, self.steps[w.between[1]].name
            lines.append(f"  without {w.name} between {a} and {b} ({w.scope})")
        if self.params:
            lines.append("params: " + ", ".join(f"{k}={v}" for k, v in self.params))
        ex = self.explain
        lines += ["", f"cause: {ex.cause}", f"impact: {ex.impact}", f"workaround: {ex.workaround}"]
        lines += [f"see: {ref}" for ref in ex.references]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The loaded rules in evaluation order (a rule after the rules that explain it)."""

    rules: tuple[Rule, ...] = field(default=())

    def get(self, rule_id: str) -> Rule:
        """The rule with this id; RuleError naming the known ids otherwise."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        known = ", ".join(sorted(r.id for r in self.rules))
        raise RuleError(f"unknown rule {rule_id!r}; known rules: {known}", Location(rule_id))

    def literals(self) -> tuple[str, ...] | None:
        """Every literal any rule needs (for the reader's prefilter); None if one has none."""
        found: set[str] = set()
        for rule in self.rules:
            lits = rule.literals()
            if lits is None:
                return None
            found.update(lits)
        return tuple(sorted(found))


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1h30m`, `500ms`, `1d` -> timedelta; ValueError otherwise."""
    if not isinstance(text, str) or not _DURATION.match(text.strip()):
        raise ValueError(
            f"bad duration {text!r}; expected a number and a unit (ms, s, m, h, d), "
            "e.g. 90s, 10m, 2h"
        )
    parts = _DURATION_PART.findall(text.strip())
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def builtin_rules_dir() -> Path:
    """The checkout's `rules/` folder, else the packaged `triage.builtin_rules` data."""
    checkout = Path(__file__).resolve().parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    # Installed: `rules/` ships as the data folder triage/builtin_rules (see pyproject.toml). It
    # has no __init__.py, so importlib.resources would hand back a namespace MultiplexedPath.
    return Path(__file__).resolve().parent / "builtin_rules"


def load_rules(
    dirs: Sequence[Path] = (),
    *,
    builtin: bool = True,
    overrides: Mapping[str, str] | None = None,
) -> RuleSet:
    """Load built-ins, then each dir (adds or overrides by id); RuleErrors lists every error."""
    rules, errors = _load_all(dirs, builtin, overrides or {})
    if errors:
        raise RuleErrors(errors)
    return RuleSet(_ordered(rules))


def check_rules(dirs: Sequence[Path] = (), *, builtin: bool = True) -> list[RuleError]:
    """Every error in the rule files, in path order; empty when all rules are valid."""
    return _load_all(dirs, builtin, {})[1]


def load_rule(path: Path, overrides: Mapping[str, str] | None = None) -> Rule:
    """Load one rule file; RuleErrors with every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleErrors(
            [RuleError(f"cannot read rule file: {error}", Location(str(path)))]
        ) from None
    return load_rule_text(text, str(path), overrides)


def load_rule_text(
    text: str, path: str = "<rule>.toml", overrides: Mapping[str, str] | None = None
) -> Rule:
    """Load a rule from TOML text; `path` names it in errors and its stem must be the id."""
    checker = _Checker(path, text)
    rule = checker.rule(overrides or {})
    if checker.errors or rule is None:
        raise RuleErrors(sorted(checker.errors, key=_line))
    return rule


def _line(error: RuleError) -> int:
    return (error.location.line if error.location else None) or 0


def _load_all(
    dirs: Sequence[Path], builtin: bool, overrides: Mapping[str, str]
) -> tuple[list[Rule], list[RuleError]]:
    folders = ([builtin_rules_dir()] if builtin else []) + [Path(d) for d in dirs]
    by_id: dict[str, Rule] = {}
    errors: list[RuleError] = []
    for folder in folders:
        if not folder.is_dir():
            errors.append(RuleError("not a folder of rule files (*.toml)", Location(str(folder))))
            continue
        for path in sorted(folder.glob("*.toml")):
            mine = {
                k.split(".", 1)[1]: v for k, v in overrides.items() if k.split(".")[0] == path.stem
            }
            try:
                rule = load_rule(path, mine)
            except RuleErrors as bad:
                errors.extend(bad.errors)
                continue
            by_id[rule.id] = rule  # a later folder overrides an earlier one by id
    errors.extend(_check_links(overrides, by_id, errors))
    return list(by_id.values()), errors


def _check_links(
    overrides: Mapping[str, str], rules: Mapping[str, Rule], errors: Sequence[RuleError]
) -> list[RuleError]:
    found = []
    broken = {Path(e.location.path).stem for e in errors if e.location}
    for key in sorted(overrides):
        rule_id = key.split(".", 1)[0]
        if rule_id not in rules and rule_id not in broken:
            known = ", ".join(sorted(rules))
            message = f"--set {key}: unknown rule {rule_id!r}; known rules: {known}"
            found.append(RuleError(message, Location("--set")))
    for rule in rules.values():
        for other in rule.explained_by:
            if other not in rules and other not in broken:
                line = _Checker(rule.path, Path(rule.path).read_text("utf-8")).line_of(
                    ("explained_by",)
                )
                found.append(
                    RuleError(
                        f"explained_by names unknown rule {other!r}", Location(rule.path, line)
                    )
                )
    return found


def _ordered(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """Sort by id, then put every rule after the rules that explain it (cycle-safe)."""
    by_id = {r.id: r for r in sorted(rules, key=lambda r: r.id)}
    done: dict[str, Rule] = {}

    def visit(rule: Rule, stack: tuple[str, ...]) -> None:
        if rule.id in done or rule.id in stack:
            return
        for dep in rule.explained_by:
            if dep in by_id:
                visit(by_id[dep], (*stack, rule.id))
        done[rule.id] = rule

    for rule in by_id.values():
        visit(rule, ())
    return tuple(done.values())


# --- the checker: TOML dict -> Rule, collecting located errors --------------------------------

RULE_KEYS = (
    "by", "count_step", "description", "details", "explain", "explained_by", "id", "keep", "params",
    "session", "severity", "steps", "summary", "title", "without",
)  # fmt: skip
STEP_KEYS = ("absent", "count", "merge", "name", "same", "window", "within")
WITHOUT_KEYS = ("between", "name", "report", "scope")
EXPLAIN_KEYS = ("cause", "impact", "references", "workaround")


class _Checker:
    """Builds one Rule from TOML text; every problem becomes a RuleError located by key."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.text = text
        self.errors: list[RuleError] = []
        self.params: dict[str, Any] = {}
        self._last_absent = False

    def error(self, message: str, where: tuple[Any, ...]) -> None:
        """Record an error at the line of the key path `where`."""
        self.errors.append(RuleError(message, Location(self.path, self.line_of(where))))

    def line_of(self, where: tuple[Any, ...]) -> int:
        """1-based line of a key path like ("steps", 2, "message"); its section or 1 if unseen."""
        start, end = 0, len(self.lines)
        keys = list(where)
        if len(keys) >= 2 and isinstance(keys[1], int):
            header = re.compile(rf"^\s*\[\[\s*{re.escape(keys[0])}\s*\]\]")
            hits = [i for i, line in enumerate(self.lines) if header.match(line)]
            if len(hits) >= keys[1]:
                start = hits[keys[1] - 1]
                end = next(
                    (i for i in range(start + 1, end) if self.lines[i].lstrip().startswith("[")),
                    end,
                )
            keys = keys[2:]
        elif len(keys) >= 2:
            header = re.compile(rf"^\s*\[\s*{re.escape(keys[0])}\s*\]")
            found = next((i for i, line in enumerate(self.lines) if header.match(line)), None)
            if found is not None:
                start, keys = found, keys[1:]
        line = start
        for key in keys[:1]:
            pattern = re.compile(rf'^\s*"?{re.escape(str(key))}"?\s*=')
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(str(key))}\s*\]")
            line = next(
                (i for i in range(start, end) if pattern.match(self.lines[i])),
                next((i for i in range(start, end) if header.match(self.lines[i])), start),
            )
        return line + 1

    def rule(self, overrides: Mapping[str, str]) -> Rule | None:
        """Validate the whole file and build the rule, or None if it cannot be built."""
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"\(at line (\d+), column \d+\)", str(error))
            line = int(match.group(1)) if match else 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
            self.errors.append(RuleError(f"invalid TOML: {message}", Location(self.path, line)))
            return None
        self._unknown(data, RULE_KEYS, (), "the rule")
        self.params = self._params(data.get("params", {}), overrides)
        rule_id = self._text(data, "id", ())
        title = self._text(data, "title", ())
        stem = Path(self.path).stem
        if rule_id and rule_id != stem:
            self.error(f"id {rule_id!r} does not match the file name {stem!r}; rename one", ("id",))
        severity = self._severity(data)
        steps = self._steps(data.get("steps"))
        names = [s.name for s in steps]
        captured = {c for s in steps for c in s.captures()}
        known = set(COLUMNS) | captured | {f"{c}_max" for c in captured}
        withouts = self._withouts(data.get("without", []), names)
        explain = self._explain(data.get("explain"))
        by = self._names(data.get("by", "session"), ("by",), known, "by")
        rest = self._extras(data, names, known)
        if self.errors or not (rule_id and title and severity and steps and explain and by):
            return None
        return Rule(
            id=rule_id, title=title, severity=severity, by=by, steps=tuple(steps), explain=explain,
            path=self.path, without=tuple(withouts), params=tuple(self.params.items()), **rest,
        )  # fmt: skip

    def _extras(self, data: dict[str, Any], names: list[str], known: set[str]) -> dict[str, Any]:
        extras: dict[str, Any] = {"description": str(data.get("description", ""))}
        session = data.get("session", [])
        extras["session"] = tuple([session] if isinstance(session, str) else session)
        for template in extras["session"]:
            self._template(template, ("session",), known | {"key"})
        if "summary" in data:
            extras["summary"] = self._template(
                data["summary"], ("summary",), known | set(SUMMARY_FIELDS) | set(self.params)
            )
        extras["details"] = self._names(
            data.get("details", []), ("details",), known | set(DETAIL_FIELDS), "details"
        )
        explained = data.get("explained_by", [])
        if not isinstance(explained, list) or not all(isinstance(x, str) for x in explained):
            self.error("explained_by must be a list of rule ids", ("explained_by",))
            explained = []
        extras["explained_by"] = tuple(explained)
        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(x, str) and x for x in keep):
            self.error("keep must be a list of literal texts", ("keep",))
            keep = []
        extras["keep"] = tuple(keep)
        if self._last_absent:
            extras["count_step"] = len(names) - 2
        if "count_step" in data:
            if data["count_step"] in names:
                extras["count_step"] = names.index(data["count_step"])
            else:
                self.error(
                    f"count_step names unknown step {data['count_step']!r}; steps are: "
                    + ", ".join(names),
                    ("count_step",),
                )
        return extras

    def _unknown(
        self, table: dict[str, Any], allowed: Sequence[str], where: tuple[Any, ...], what: str
    ) -> None:
        for key in table:
            if key not in allowed:
                self.error(
                    f"unknown key {key!r} in {what}; {_expected(key, allowed)}", (*where, key)
                )

    def _text(
        self, data: dict[str, Any], key: str, where: tuple[Any, ...], what: str = "the rule"
    ) -> str:
        value = data.get(key)
        if value is None:
            self.error(f"missing key {key!r} in {what}", where or (key,))
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(f"{key!r} must be a non-empty string", (*where, key))
            return ""
        return value

    def _severity(self, data: dict[str, Any]) -> Severity | None:
        text = self._text(data, "severity", ())
        if not text:
            return None
        try:
            return Severity.parse(text)
        except ValueError as error:
            self.error(str(error).replace("unknown severity", "bad severity"), ("severity",))
            return None

    def _params(self, table: Any, overrides: Mapping[str, str]) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.error("[params] must be a table of name = value", ("params",))
            return {}
        params = dict(table)
        for name, raw in overrides.items():
            if name not in params:
                known = ", ".join(sorted(params)) or "none"
                self.errors.append(RuleError(
                    f"--set {Path(self.path).stem}.{name}: unknown param {name!r}; params: {known}",
                    Location("--set"),
                ))  # fmt: skip
                continue
            params[name] = self._coerce(params[name], raw, name)
        return params

    def _coerce(self, default: Any, raw: str, name: str) -> Any:
        try:
            if isinstance(default, bool):
                return {"true": True, "false": False}[raw.lower()]
            if isinstance(default, int):
                return int(raw)
            if isinstance(default, float):
                return float(raw)
            if isinstance(default, str) and _DURATION.match(default):
                parse_duration(raw)
            return raw
        except (ValueError, KeyError) as error:
            detail = (
                str(error)
                if isinstance(error, ValueError) and "duration" in str(error)
                else (f"expected a {type(default).__name__} like {default!r}")
            )
            self.errors.append(RuleError(
                f"--set {Path(self.path).stem}.{name}={raw}: {detail}", Location("--set")
            ))  # fmt: skip
            return default

    def resolve(self, value: Any, where: tuple[Any, ...]) -> Any:
        """Replace a whole-string `{param}` reference by the param's value."""
        if isinstance(value, str) and (ref := _PARAM_REF.match(value)):
            if ref.group(1) not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                self.error(f"unknown param reference {value!r}; params: {known}", where)
                return None
            return self.params[ref.group(1)]
        return value

    def duration(self, value: Any, where: tuple[Any, ...]) -> timedelta | None:
        """A duration value (or param) at `where`, None when absent or bad (error recorded)."""
        value = self.resolve(value, where)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as error:
            reason = str(error).replace("; expected", f" in {_dotted(where)}; expected")
            self.error(reason, where)
            return None

    def _steps(self, raw: Any) -> list[Step]:
        if not raw:
            self.error(
                "missing key 'steps' in the rule; add at least one [[steps]] table", ("steps",)
            )
            return []
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            self.error("steps must be [[steps]] tables", ("steps",))
            return []
        steps = [self._step(table, i) for i, table in enumerate(raw, 1)]
        self._last_absent = len(steps) > 1 and steps[-1].absent
        seen: set[str] = set()
        for i, step in enumerate(steps, 1):
            if step.absent and (i != len(steps) or i == 1):
                self.error(
                    "only the last step (after another) can be absent", ("steps", i, "absent")
                )
            if step.name in seen:
                self.error(f"duplicate step name {step.name!r}", ("steps", i, "name"))
            seen.add(step.name)
        return steps

    def _step(self, table: dict[str, Any], index: int) -> Step:
        where = ("steps", index)
        name = self._text(table, "name", where, f"steps[{index}]") or f"step{index}"
        matchers = {k: v for k, v in table.items() if k not in STEP_KEYS}
        matches = self._matches(matchers, where)
        captures = {c for m in matches for c in m.captures()}
        allowed = sorted(set(STEP_KEYS) | set(COLUMNS) | captures)
        for key in matchers:
            if key not in COLUMNS and key not in captures:
                self.error(
                    f"unknown key {key!r} in steps[{index}]; {_expected(key, allowed)}",
                    (*where, key),
                )
        if not matches and not self.errors:
            self.error(
                f"steps[{index}] has no field matcher (e.g. message = {{ contains = [...] }})",
                where,
            )
        count = self.resolve(table.get("count", 1), (*where, "count"))
        if count is None:
            count = 1  # the bad reference is already reported
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.error(f"count must be a whole number >= 1, not {count!r}", (*where, "count"))
            count = 1
        same = table.get("same", [])
        return Step(
            name=name,
            matches=tuple(m for m in matches if m.field in COLUMNS or m.field in captures),
            count=count,
            within=self.duration(table.get("within"), (*where, "within")),
            window=self.duration(table.get("window"), (*where, "window")),
            merge=self.duration(table.get("merge"), (*where, "merge")),
            same=tuple([same] if isinstance(same, str) else same),
            absent=bool(table.get("absent", False)),
        )

    def _withouts(self, raw: Any, names: list[str]) -> list[Without]:
        if not isinstance(raw, list):
            self.error("without must be [[without]] tables", ("without",))
            return []
        found = []
        for index, table in enumerate(raw, 1):
            where = ("without", index)
            self._unknown(
                {k: v for k, v in table.items() if k not in COLUMNS},
                WITHOUT_KEYS, where, f"without[{index}]",
            )  # fmt: skip
            between = table.get("between")
            if not (isinstance(between, list) and len(between) == 2):
                self.error(f"without[{index}].between must name two steps", (*where, "between"))
                continue
            idx = []
            for step in between:
                if step not in names:
                    self.error(
                        f"without[{index}].between names unknown step {step!r}; steps are: "
                        + ", ".join(names),
                        (*where, "between"),
                    )
                else:
                    idx.append(names.index(step))
            scope = table.get("scope", "key")
            if scope not in tuple(Scope):
                self.error(f"bad scope {scope!r}; expected key or global", (*where, "scope"))
                continue
            matches = self._matches({k: v for k, v in table.items() if k in COLUMNS}, where)
            if len(idx) == 2:
                name = str(table.get("name", f"without{index}"))
                report = bool(table.get("report", True))
                between_steps = (idx[0], idx[1])
                found.append(Without(name, between_steps, tuple(matches), Scope(scope), report))
        return found

    def _matches(self, table: dict[str, Any], where: tuple[Any, ...]) -> list[FieldMatch]:
        found = []
        for key, value in table.items():
            conds = self._conds(value, (*where, key))
            if conds:
                found.append(FieldMatch(key, conds))
        return found

    def _conds(self, value: Any, where: tuple[Any, ...]) -> tuple[Cond, ...]:
        value = self.resolve(value, where)
        if isinstance(value, dict):
            return tuple(c for op, arg in value.items() if (c := self._cond(op, arg, where)))
        if isinstance(value, list):
            return (Cond(Op.IN, tuple(value)),)
        if value is None:
            return ()
        return (Cond(Op.EQUALS, value),)

    def _cond(self, op: str, arg: Any, where: tuple[Any, ...]) -> Cond | None:
        if op not in TABLE_OPS:
            self.error(
                f"unknown operator {op!r} in {_dotted(where)}; {_expected(op, TABLE_OPS)}", where
            )
            return None
        kind = Op(op)
        arg = self.resolve(arg, where)
        if kind is Op.REGEX:
            return self._regex(arg, where)
        if kind in (Op.CONTAINS, Op.IN):
            items = [arg] if isinstance(arg, str) else arg
            if not isinstance(items, list) or not items:
                self.error(f"{op} in {_dotted(where)} needs a non-empty list", where)
                return None
            return Cond(kind, tuple(items))
        if kind is Op.PREFIX:
            return Cond(kind, str(arg))
        if kind is Op.NOT:
            return Cond(kind, None, (Cond(Op.ALL, None, self._conds(arg, where)),))
        if kind is Op.ANY:
            alts = arg if isinstance(arg, list) else [arg]
            return Cond(kind, None, tuple(Cond(Op.ALL, None, self._conds(a, where)) for a in alts))
        return self._number(kind, arg, where)

    def _number(self, kind: Op, arg: Any, where: tuple[Any, ...]) -> Cond | None:
        if isinstance(arg, str):
            try:  # durations compare in milliseconds, the unit of OpenClaw's `…Ms` fields
                return Cond(kind, parse_duration(arg).total_seconds() * 1000)
            except ValueError:
                pass
        if isinstance(arg, bool) or not isinstance(arg, int | float):
            self.error(
                f"{kind} in {_dotted(where)} needs a number or a duration, not {arg!r}", where
            )
            return None
        return Cond(kind, float(arg))

    def _regex(self, pattern: Any, where: tuple[Any, ...]) -> Cond | None:
        if not isinstance(pattern, str):
            self.error(f"regex in {_dotted(where)} must be a string", where)
            return None
        try:
            re.compile(pattern)
            pl.select(pl.lit("").str.contains(pattern))
        except (re.error, pl.exceptions.PolarsError) as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else "invalid"
            reason = getattr(error, "msg", None) or reason.removeprefix("error: ")
            self.error(f"bad regex {pattern!r} in {_dotted(where)}: {reason}", where)
            return None
        return Cond(Op.REGEX, pattern)

    def _names(
        self, value: Any, where: tuple[Any, ...], known: set[str], what: str
    ) -> tuple[str, ...]:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            self.error(f"{what} must be a name or a list of names", where)
            return ()
        for name in names:
            if name not in known:
                self.error(
                    f"unknown column {name!r} in {what}; expected an event column or a capture: "
                    + ", ".join(sorted(known)),
                    where,
                )
        return tuple(names)

    def _template(self, template: Any, where: tuple[Any, ...], known: set[str]) -> str:
        if not isinstance(template, str):
            self.error(f"{where[0]} must be a string template", where)
            return ""
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as error:
            self.error(f"bad template in {where[0]}: {error}", where)
            return template
        for name in fields:
            if name.split(":")[0] not in known:
                self.error(f"unknown param reference '{{{name}}}' in {where[0]}", where)
        return template

    def _explain(self, raw: Any) -> Explain | None:
        if not isinstance(raw, dict):
            self.error(
                "missing key 'explain' in the rule; add [explain] with cause, impact, workaround",
                ("explain",),
            )
            return None
        self._unknown(raw, EXPLAIN_KEYS, ("explain",), "[explain]")
        parts = [
            self._text(raw, k, ("explain",), "[explain]") for k in ("cause", "impact", "workaround")
        ]
        refs = raw.get("references", [])
        if not isinstance(refs, list):
            self.error("references must be a list of links", ("explain", "references"))
            refs = []
        if not all(parts):
            return None
        return Explain(
            cause=parts[0].strip(),
            impact=parts[1].strip(),
            workaround=parts[2].strip(),
            references=tuple(refs),
        )


def _expected(name: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, [str(a) for a in allowed], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}expected one of: {', '.join(sorted(str(a) for a in allowed))}"


def _dotted(where: tuple[Any, ...]) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
