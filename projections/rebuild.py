"""A read model rebuilt from the events while the live one keeps serving.

The rebuild folds every event into the view's shadow tables (projections.swap), a
batch per transaction with its tracking, then swaps them in: in one transaction it
locks the live tables, folds what the live view has that the shadow lacks, and
renames the shadow's tables into place.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper, Tracking

from projections import rebuild_poison

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class RebuildableView(Protocol):
    """What a rebuild needs of a view (projections.swap.Rebuildable provides it)."""

    def shadow(self) -> Any: ...

    def reset(self) -> None: ...

    def transaction(self, *, commit: bool) -> Any: ...

    def position(self, upstream: str, curs: Any = None) -> int: ...

    def lock(self, curs: Any) -> None: ...

    def swap_in(self, curs: Any, shadow: Any) -> None: ...

    def apply_events(
        self, events: Sequence[Any], tracking: Tracking, curs: Any = None
    ) -> None: ...


@dataclass(frozen=True)
class Progress:
    """Where a rebuild stands: folded up to `position` of `head`, `events` so far."""

    name: str
    position: int
    head: int
    events: int
    seconds: float
    done: bool = False

    @property
    def rate(self) -> float:
        """Events per second so far."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


class LiveRebuild:
    """Rebuild `view` from the notification log without stopping its readers."""

    def __init__(  # noqa: PLR0913 - wiring, all by name
        self,
        *,
        name: str,
        view: RebuildableView,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        topics: Sequence[str],
        event_type: type[object],
        upstream: str,
        batch_size: int = 5000,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.name = name
        self._view = view
        self._recorder = recorder
        self._mapper = mapper
        self._topics = tuple(topics)
        self._event_type = event_type
        self._upstream = upstream
        self._batch_size = batch_size
        self._on_progress = on_progress
        self._events = 0
        self._started = 0.0
        # Events it could not apply, parked on the way (projections.rebuild_poison).
        self.parked: list[Any] = []

    def run(self) -> Progress:
        """Fold everything into the shadow, swap it in; the final progress."""
        self._started = time.perf_counter()
        self._events = 0
        shadow = self._view.shadow()
        shadow.reset()
        position = 0
        # The bulk, up to the head as it moves, the live model serving. The next page
        # is read and decoded while this one is written (the writes release the GIL).
        with ThreadPoolExecutor(1, thread_name_prefix=f"rebuild.{self.name}") as pool:
            pending = pool.submit(self._decoded, position, None)
            while page := pending.result():
                pending = pool.submit(self._decoded, page[-1][0], None)
                position = self._fold(shadow, page, None)
                self._report(position, done=False)
        with self._view.transaction(commit=True) as curs:
            self._view.lock(curs)  # the live model stops moving (its reads go on)
            live = self._view.position(self._upstream, curs)
            while position < live:  # what the live model folded since the last page
                page = self._decoded(position, live)
                if not page:
                    break
                position = self._fold(shadow, page, curs)
            if live > position:  # past events that are not this view's
                shadow.apply_events([], Tracking(self._upstream, live), curs)
            self._view.swap_in(curs, shadow)
        return self._report(max(position, live), done=True)

    def _decoded(self, position: int, stop: int | None) -> list[tuple[int, Any]]:
        """The next page after `position`: (notification id, domain event) pairs."""
        page = self._recorder.select_notifications(
            start=position,
            limit=self._batch_size,
            stop=stop,
            topics=self._topics,
            inclusive_of_start=False,
        )
        return [(n.id, rebuild_poison.decode(self._mapper, n)) for n in page]

    def _fold(
        self, shadow: RebuildableView, page: list[tuple[int, Any]], curs: Any
    ) -> int:
        try:
            rebuild_poison.raise_undecodable(page)
            mine = [event for _, event in page if isinstance(event, self._event_type)]
            shadow.apply_events(mine, Tracking(self._upstream, page[-1][0]), curs)
        except Exception as error:
            if curs is not None or not rebuild_poison.is_poison(error):
                raise
            self.parked += rebuild_poison.fold_one_at_a_time(
                shadow, page, event_type=self._event_type, upstream=self._upstream,
                read_model=self.name, error=error,
            )  # fmt: skip
        self._events += len(page)
        return int(page[-1][0])

    def _report(self, position: int, *, done: bool) -> Progress:
        progress = Progress(
            name=self.name,
            position=position,
            head=max(position, self._recorder.max_notification_id() or 0),
            events=self._events,
            seconds=time.perf_counter() - self._started,
            done=done,
        )
        if self._on_progress is not None:
            self._on_progress(progress)
        return progress
