"""triage: turn a service log into a per-session root-cause answer."""

__version__ = "0.1.0"
