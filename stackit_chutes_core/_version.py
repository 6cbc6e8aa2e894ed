"""The single source of the package version (read by pyproject.toml through hatchling)."""

__version__ = "0.1.0"
