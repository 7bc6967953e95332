"""stub."""

from triage.findings import Report


def render(report: Report) -> str:
    """Stub."""
    return ""
