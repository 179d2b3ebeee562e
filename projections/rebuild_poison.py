"""A live rebuild gets past poison events: it parks them, as the runner does.

A rebuild applies every event again. One it cannot decode or apply (for a reason of
its own, not the database's) would stop the rebuild for good, so the page that holds
it is applied again event by event, and the culprit is parked: recorded in the view's
parked table, the shadow's tracking moved past it, in one transaction. Only the bulk
of the rebuild does this; an event that fails in the final swap transaction (stored
during the rebuild) stops it, and the next rebuild parks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.utils import get_topic

from projections.parking import ParkedEvent, Parking, error_text, now
from projections.runner import is_transient

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import Mapper


@dataclass(frozen=True)
class Undecodable:
    """A notification the mapper could not turn into an event, in place of one."""

    notification: Notification
    error: Exception


def decode(mapper: Mapper[Any], notification: Notification) -> Any:
    try:
        return mapper.to_domain_event(notification)
    except Exception as error:
        if is_transient(error):
            raise
        return Undecodable(notification, error)


def is_poison(error: BaseException) -> bool:
    return not is_transient(error) and not isinstance(error, IntegrityError)


def raise_undecodable(page: Sequence[tuple[int, Any]]) -> None:
    for _, item in page:
        if isinstance(item, Undecodable):
            raise item.error


def fold_one_at_a_time(  # noqa: PLR0913 - wiring, all by name
    shadow: Any,
    page: Sequence[tuple[int, Any]],
    *,
    event_type: type[object],
    upstream: str,
    read_model: str,
    error: Exception,
) -> list[ParkedEvent]:
    """Apply `page` event by event into `shadow`, parking each that fails; the parked.

    `error` is the page's: re-raised if the view cannot park.
    """
    if not isinstance(shadow, Parking):
        raise error
    parked: list[ParkedEvent] = []
    apply_events = shadow.apply_events  # type: ignore[attr-defined]
    for position, item in page:
        tracking = Tracking(upstream, position)
        try:
            raise_undecodable([(position, item)])
            apply_events([item] if isinstance(item, event_type) else [], tracking)
        except Exception as failure:
            if not is_poison(failure):
                raise
            event = _parked(read_model, position, item, failure)
            shadow.park(event, tracking)
            parked.append(event)
    return parked


def _parked(read_model: str, position: int, item: Any, error: Exception) -> ParkedEvent:
    if isinstance(item, Undecodable):
        originator_id = item.notification.originator_id
        version, topic = item.notification.originator_version, item.notification.topic
    else:
        originator_id = item.originator_id
        version, topic = item.originator_version, get_topic(type(item))
    return ParkedEvent(
        read_model=read_model, position=position, originator_id=str(originator_id),
        originator_version=version, topic=topic, error=error_text(error), attempts=1,
        parked_at=now(),
    )  # fmt: skip
