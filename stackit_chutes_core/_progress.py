"""Progress bars for bulk work (tqdm, the optional extra ``stackit-chutes[progress]``).

Nothing is imported or printed unless a bar is asked for; a missing tqdm is a clear error naming
the extra, raised before any request is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stackit_chutes_core.errors import ConfigurationError

__all__ = ["progress_bar", "require_tqdm"]

Advance = Callable[[int], None]
"""``advance(n)``: ``n`` more documents are done (thread-safe)."""


def require_tqdm(option: str = "show_progress") -> Any:
    """The ``tqdm.auto.tqdm`` class; :class:`ConfigurationError` naming the extra when it is missing."""
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:
        raise ConfigurationError(
            f"{option}=True needs tqdm: pip install 'stackit-chutes[progress]' (or pip install tqdm)."
        ) from exc
    return tqdm


@contextmanager
def progress_bar(total: int, enabled: bool, desc: str, option: str = "show_progress") -> Iterator[Advance | None]:
    """A bar over ``total`` documents showing documents done and their rate; ``None`` when off."""
    if not enabled or total <= 0:
        yield None
        return
    bar = require_tqdm(option)(total=total, desc=desc, unit="doc", dynamic_ncols=True)
    lock = threading.Lock()  # advanced from worker threads

    def advance(n: int) -> None:
        with lock:
            bar.update(n)

    try:
        yield advance
    finally:
        bar.close()
