"""Stamps as text, remembered: a job's row is rendered again each time it changes.

A row holds about ten stamps and is written in about four rounds, each rendering
every stamp for its column and again for its Medusa document: formatting them was
a fifth of the projection's time. Most are the same instants every round (read
back from the row), so each text is made once and looked up after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

KEPT = 8192  # texts per renderer; all are dropped at once when it is full


def remembered(render: Callable[[datetime], str]) -> Callable[[datetime], str]:
    """`render`, answering an instant it rendered before from memory.

    Equal datetimes are the same instant (whatever their zone) and `render` must
    give the same text for them, as a renderer converting to UTC first does.
    """
    texts: dict[datetime, str] = {}

    def rendered(moment: datetime) -> str:
        text = texts.get(moment)
        if text is None:
            if len(texts) >= KEPT:
                texts.clear()  # bounded: a full map starts again (safe across threads)
            text = texts[moment] = render(moment)
        return text

    return rendered
