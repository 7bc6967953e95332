"""Located validation of rule values: errors at the line of their key, params, matchers.

`ValueChecker` is the base of `triage.ruleload.RuleChecker`: it records every problem as a
`RuleError` at the line of its key path (`("steps", 2, "message")`) and builds the matcher
values (`Cond`, `FieldMatch`) of `triage.rulemodel`.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from triage.errors import Location, RuleError
from triage.findings import Explain, Severity
from triage.rulemodel import DURATION, TABLE_OPS, Cond, FieldMatch, Op, parse_duration

EXPLAIN_KEYS = ("cause", "impact", "references", "workaround")

PARAM_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ValueChecker:
    """Collects located errors while checking one rule file's values."""

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

    def resolve(self, value: Any, where: tuple[Any, ...]) -> Any:
        """Replace a whole-string `{param}` reference by the param's value."""
        if isinstance(value, str) and (ref := PARAM_REF.match(value)):
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
            reason = str(error).replace("; expected", f" in {dotted(where)}; expected")
            self.error(reason, where)
            return None

    def _unknown(
        self, table: dict[str, Any], allowed: Sequence[str], where: tuple[Any, ...], what: str
    ) -> None:
        for key in table:
            if key not in allowed:
                self.error(
                    f"unknown key {key!r} in {what}; {expected(key, allowed)}", (*where, key)
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
                f"unknown operator {op!r} in {dotted(where)}; {expected(op, TABLE_OPS)}", where
            )
            return None
        kind = Op(op)
        arg = self.resolve(arg, where)
        if kind is Op.REGEX:
            return self._regex(arg, where)
        if kind in (Op.CONTAINS, Op.IN):
            items = [arg] if isinstance(arg, str) else arg
            if not isinstance(items, list) or not items:
                self.error(f"{op} in {dotted(where)} needs a non-empty list", where)
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
                f"{kind} in {dotted(where)} needs a number or a duration, not {arg!r}", where
            )
            return None
        return Cond(kind, float(arg))

    def _regex(self, pattern: Any, where: tuple[Any, ...]) -> Cond | None:
        if not isinstance(pattern, str):
            self.error(f"regex in {dotted(where)} must be a string", where)
            return None
        try:
            re.compile(pattern)
            pl.select(pl.lit("").str.contains(pattern))
        except (re.error, pl.exceptions.PolarsError) as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else "invalid"
            reason = getattr(error, "msg", None) or reason.removeprefix("error: ")
            self.error(f"bad regex {pattern!r} in {dotted(where)}: {reason}", where)
            return None
        return Cond(Op.REGEX, pattern)

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
                    f"{Path(self.path).stem}.{name}: unknown param {name!r}; params: {known}",
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
            if isinstance(default, str) and DURATION.match(default):
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


def expected(name: str, allowed: Sequence[str]) -> str:
    """`did you mean …? expected one of: …` for an unknown name."""
    close = difflib.get_close_matches(name, [str(a) for a in allowed], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}expected one of: {', '.join(sorted(str(a) for a in allowed))}"


def dotted(where: tuple[Any, ...]) -> str:
    """A key path as TOML spells it: `steps[2].message`."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
