"""The `triage` command line: a thin typer shell over `triage.pipeline` (STYLE.md G1)."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from triage.console import ProgressBar, write_atomic
from triage.errors import Location, ReportError, TriageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn a service log (journalctl, OpenClaw gateway) into a root-cause answer per session.",
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])

SUFFIX_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".json": "json",
    ".sarif": "sarif",
    ".xml": "junit",
    ".txt": "terminal",
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"triage: {message}", err=True)
    return typer.Exit(code)


def handles_errors(func: F) -> F:
    """Turn every TriageError into a one-line `path:line: message` on stderr and exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TriageError as error:
            raise _fail(str(error)) from None
        except BrokenPipeError:  # `triage analyze x | head` closed the pipe: not an error
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper  # type: ignore[return-value]


def _pick_format(fmt: str | None, output: Path | None) -> Any:
    from triage.reports import ReportFormat

    name = fmt or (SUFFIX_FORMATS.get(output.suffix.lower()) if output else None) or "terminal"
    try:
        return ReportFormat(name)
    except ValueError:
        choices = ", ".join(f.value for f in ReportFormat)
        raise TriageError(
            f"--format {name!r} is not a report format; expected one of: {choices}"
        ) from None


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or "." not in name:
            raise TriageError(
                f"--set {pair!r}: expected RULE.PARAM=VALUE, e.g. lane-wait-blocked.min_wait=20s"
            )
        result[name.strip()] = value.strip()
    return result


def _zone(name: str | None) -> str | None:
    """Check `--tz` names an IANA zone, so a typo fails instead of silently meaning UTC."""
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TriageError(
            f"--tz {name!r} is not an IANA time zone; use a name like Europe/Paris or UTC"
        ) from None
    return name


def _fail_on(value: str | None) -> Any:
    from triage.findings import Severity

    if value is None or value == "never":
        return None
    try:
        return Severity.parse(value)
    except ValueError as error:
        raise TriageError(f"--fail-on: {error}") from None


@app.command()
@handles_errors
def analyze(
    paths: Annotated[list[str], typer.Argument(help="Log files (.gz too), or - for stdin.")],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="terminal, json, md, html, sarif or junit."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (atomically).")
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 when a finding is at or above: info..critical.")
    ] = None,
    rules_dirs: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Override a rule parameter: RULE.PARAM=VALUE.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Year for year-less timestamps.")] = None,
    tz: Annotated[str | None, typer.Option(help="IANA zone of zone-less timestamps.")] = None,
    input_format: Annotated[
        str | None, typer.Option(help="Force an input format (see `triage formats`).")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Fail on the first unparsed line.")] = False,
    redact: Annotated[
        bool, typer.Option("--redact/--no-redact", help="Redact secrets and personal data.")
    ] = True,
    color: Annotated[bool | None, typer.Option("--color/--no-color", help="Colour output.")] = None,
    progress: Annotated[
        bool | None,
        typer.Option(help="Progress bar on stderr (default: for inputs over 64 MB on a terminal)."),
    ] = None,
    generated_at: Annotated[
        datetime | None, typer.Option(hidden=True, help="Fix the report clock (tests).")
    ] = None,
) -> None:
    """Analyse logs and report the root cause per session."""
    from triage import pipeline
    from triage.parsers.base import ParseOptions
    from triage.rules import load_rules

    fmt = _pick_format(format, output)
    threshold = _fail_on(fail_on)
    ruleset = load_rules(rules_dirs or (), overrides=_parse_sets(sets or []))
    options = ParseOptions(year=year, tz=_zone(tz), input_format=input_format, strict=strict)
    with ProgressBar.maybe(paths, forced=progress) as bar:
        report = pipeline.run(
            paths, rules=ruleset, parse_options=options, generated_at=generated_at, progress=bar
        )
    use_color = sys.stdout.isatty() if color is None else color
    _emit(report, fmt, output, redact=redact, color=use_color)
    worst = report.worst()
    if threshold is not None and worst is not None and worst >= threshold:
        raise typer.Exit(1)


def _emit(report: Any, fmt: Any, output: Path | None, *, redact: bool, color: bool) -> None:
    from triage.redact import redact_report
    from triage.reports import ReportFormat, render

    if redact:  # once, so the file and the terminal summary share one set of pseudonyms
        report = redact_report(report)
    if output is None:
        text = render(report, fmt, redact=False, color=color)
        typer.echo(text, nl=not text.endswith("\n"))
        return
    write_atomic(output, render(report, fmt, redact=False, color=False))
    if fmt is not ReportFormat.TERMINAL:
        summary = render(report, ReportFormat.TERMINAL, redact=False, color=color)
        typer.echo(summary, nl=not summary.endswith("\n"))
    typer.echo(f"triage: wrote {fmt} report to {output}", err=True)


@app.command("check-rules")
@handles_errors
def check_rules(
    dirs: Annotated[
        list[Path] | None, typer.Argument(help="Rule folders (default: built-ins).")
    ] = None,
) -> None:
    """Check rule files; print every error as path:line: message (exit 2 if any)."""
    from triage.rules import check_rules as check

    errors = check(dirs or (), builtin=not dirs)
    for error in errors:
        typer.echo(str(error), err=True)
    if errors:
        raise _fail(f"{len(errors)} error(s) in rule files")
    typer.echo("all rules are valid")


@app.command("test-rules")
@handles_errors
def test_rules(
    dirs: Annotated[
        list[Path] | None, typer.Argument(help="Rule folders (default: built-ins).")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
) -> None:
    """Run every rule's fixtures: each must fire where expected and stay silent elsewhere."""
    from triage.rules import load_rules
    from triage.ruletest import junit_xml, run_fixtures

    ruleset = load_rules(dirs or (), builtin=not dirs)
    results = run_fixtures(ruleset)
    for result in results:
        typer.echo(str(result))
    if junit is not None:
        write_atomic(junit, junit_xml(results))
    failed = [r for r in results if not r.passed]
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@app.command("rules")
@handles_errors
def list_rules(
    rules_dirs: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")
    ] = None,
) -> None:
    """List the rules: id, severity, title."""
    from triage.rules import load_rules

    for rule in load_rules(rules_dirs or ()).rules:
        typer.echo(f"{rule.id:<28} {rule.severity!s:<9} {rule.title}")


@app.command()
@handles_errors
def explain(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id (see `triage rules`).")],
    rules_dirs: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")
    ] = None,
) -> None:
    """Print one rule: what it matches, why it matters and what to do."""
    from triage.rules import load_rules

    rule = load_rules(rules_dirs or ()).get(rule_id)
    typer.echo(rule.describe())


@app.command()
@handles_errors
def formats() -> None:
    """List the input formats triage reads, with an example line each."""
    from triage.parsers import FORMATS

    for fmt in FORMATS.values():
        typer.echo(f"{fmt.name:<24} {fmt.description}")
        example = fmt.example.expandtabs(4).replace("\x1e", "\\x1e").split("\n")
        typer.echo(f"{'':<24} e.g. {example[0]}")
        for line in example[1:]:
            typer.echo(f"{'':<29}{line}")


@app.command()
@handles_errors
def merge(
    reports: Annotated[
        list[Path], typer.Argument(help="JSON reports from `analyze --format json`.")
    ],
    format: Annotated[str | None, typer.Option("--format", "-f", help="Output format.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    fail_on: Annotated[str | None, typer.Option(help="Exit 1 at or above this severity.")] = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact")] = True,
) -> None:
    """Merge per-host JSON reports into one report (any format)."""
    from triage.reports import merge as merge_reports
    from triage.reports.json_report import load

    loaded = [load(_read_text(path), str(path)) for path in reports]
    merged = merge_reports(loaded)
    threshold = _fail_on(fail_on)
    _emit(merged, _pick_format(format, output), output, redact=redact, color=False)
    worst = merged.worst()
    if threshold is not None and worst is not None and worst >= threshold:
        raise typer.Exit(1)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportError(f"cannot read: {error.strerror}", Location(str(path))) from None
    except UnicodeDecodeError:
        raise ReportError("not a UTF-8 JSON report", Location(str(path))) from None


GC_THRESHOLDS = (50_000, 20, 100)
"""Python's cycle collector, tuned for a run: it makes few cycles, and with the default (a
young collection every 700 allocations) the collector ran 268 times in a 1 GB run (0.07-0.1 s
of its wall time), 25 times with these."""


def main() -> None:
    """Console-script entry point: run the command, then end the process at once.

    Tearing the interpreter down (freeing every module of polars, rich and typer, and the
    frames of a big run) takes 50-100 ms, a sixth of a small run's wall time, and does nothing
    a user can see: the reports are written and closed by then, and the streams are flushed
    here. An unexpected exception still goes through Python's own exit (its traceback).
    """
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        app()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    os._exit(_flushed(code))


def _exit_code(code: object) -> int:
    """The process status Python gives `sys.exit(code)` (a text is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _flushed(code: int) -> int:
    """Flush stdout and stderr; a reader that closed the pipe early (`| head`) is no error."""
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe; a stream closed already (stderr after a closed pipe, see handles_errors).
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    return code
