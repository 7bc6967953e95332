"""One error base with a location, rendered as `path:line: message` (the compiler format)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: a file, optionally a 1-based line and a key path inside it."""

    path: str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
        if self.key:
            text += f": {self.key}"
        return text


class TriageError(ValueError):
    """Base of every error triage reports to a user; the CLI prints it and exits 2."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, TriageError)
            and (self.message, self.location) == (other.message, other.location)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.message, self.location))


class ParseError(TriageError):
    """An input cannot be read or parsed (unreadable file, `--strict` on an unparsed line)."""


class RuleError(TriageError):
    """A rule file is invalid; `load_rules` gathers every one before failing."""


class ReportError(TriageError):
    """A report cannot be written or merged."""


class RuleErrors(TriageError):
    """Every error found in a rule set, shown all at once (`triage check-rules`)."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors

    def __str__(self) -> str:
        return self.message
