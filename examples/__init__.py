"""Runnable examples; ``python -m examples NAME [--offline|--live|--record]`` (see examples/README.md)."""
