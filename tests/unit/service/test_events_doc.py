"""docs/events.md: its JSON example is a message the relay could send."""

from __future__ import annotations

import re
from pathlib import Path

from service.messaging import envelope

DOC = Path(__file__).parents[3] / "docs" / "events.md"


def test_the_documented_envelope_decodes_and_round_trips() -> None:
    [example] = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.DOTALL)

    message = envelope.decode(example.encode())

    assert (message.schema_version, message.event) == (1, "batch.created")
    assert message.event_id == f"{message.job_id}:{message.job_version}"
    assert envelope.decode(envelope.encode(message)) == message
