"""Every `jobstream` subcommand's --help says what it does and which variables it reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from service.__main__ import _parser, main
from service.commandline import variables
from service.settings import PREFIX, Settings

ROOT = Path(__file__).parents[3]
FIELDS = {PREFIX + field.name.upper() for field in msgspec.structs.fields(Settings)}
COMMANDS = sorted(variables.subcommands(_parser()))
NAMED = re.compile(r"\bJOBSTREAM_[A-Z0-9_]+\b")


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*command.split(), "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def reads(text: str) -> set[str]:
    """The variables the help's `Reads ...` paragraph names."""
    _, _, paragraph = " ".join(text.split()).partition("Reads ")
    assert paragraph, text
    return set(NAMED.findall(paragraph.partition(" (README")[0]))


def test_every_subcommand_is_covered() -> None:
    assert set(COMMANDS) == set(variables.READS)
    assert {"serve", "api", "worker", "relay", "projections", "user create"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_what_the_command_does_and_what_it_reads(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_text(command, capsys)
    usage, _, rest = text.partition("\n\n")
    description = rest.partition("\n\n")[0]

    assert usage.startswith(f"usage: jobstream {command}")
    assert len(description.split()) >= 4, text  # a sentence, not a word
    named = reads(text)
    assert named - FIELDS == set()  # every one is a real setting
    assert named == {variables.variable(f) for f in variables.READS[command]}
    assert {"JOBSTREAM_LOG_LEVEL", "JOBSTREAM_LOG_FORMAT"} <= named


def test_each_role_names_what_it_needs_and_serve_names_every_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    named = {
        c: reads(help_text(c, capsys)) for c in ("serve", "api", "worker", "relay")
    }

    assert named["serve"] == FIELDS
    assert {"JOBSTREAM_DATABASE_URL", "JOBSTREAM_PORT", "JOBSTREAM_JWT_SECRET"} <= (
        named["api"]
    )
    assert {"JOBSTREAM_NATS_URL", "JOBSTREAM_WORKER_CONCURRENCY"} <= named["worker"]
    assert "JOBSTREAM_RELAY_LEADERSHIP_SECONDS" in named["relay"]
    assert "JOBSTREAM_PORT" not in named["worker"] | named["relay"]


def test_the_installed_command_prints_the_same_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service", "worker", "--help"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "run the batch jobs NATS JetStream delivers" in done.stdout
    assert "JOBSTREAM_WORKER_CONCURRENCY" in done.stdout
