"""The settings shipped in deploy/ (example.env, the Dockerfile) pass the strict checks."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import msgspec
import pytest

from service.settings import PREFIX, Settings, load_settings

DEPLOY = Path(__file__).parents[3] / "deploy"
FIELDS = {PREFIX + field.name.upper() for field in msgspec.structs.fields(Settings)}


def example_env() -> list[tuple[str, str]]:
    """Every `# JOBSTREAM_X=value` line of deploy/example.env, in order."""
    text = (DEPLOY / "example.env").read_text()
    return re.findall(r"^# (JOBSTREAM_[A-Z0-9_]+)=(.*)$", text, re.MULTILINE)


def dockerfile_env() -> dict[str, str]:
    """The JOBSTREAM_* variables the `ENV` instructions of deploy/Dockerfile set."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    words = [
        word
        for line in text.splitlines()
        if line.startswith("ENV ")
        for word in shlex.split(line[len("ENV ") :])
    ]
    return dict(word.split("=", 1) for word in words if word.startswith(PREFIX))


@pytest.mark.parametrize(("variable", "value"), example_env())
def test_every_example_env_line_is_accepted_alone(variable: str, value: str) -> None:
    load_settings({variable: value})


def test_example_env_uncommented_whole_is_accepted() -> None:
    settings = load_settings(dict(example_env()))

    assert settings.database_url is not None  # the production block, last, wins
    assert settings.secure_cookies is True


def test_example_env_names_every_setting_and_nothing_else() -> None:
    # load_settings ignores unknown JOBSTREAM_* names: a typo here would do nothing.
    named = {variable for variable, _ in example_env()}

    assert named - FIELDS == set()
    assert FIELDS - named == set()


def test_the_dockerfile_env_is_accepted_and_known() -> None:
    environment = dockerfile_env()
    settings = load_settings(environment)

    assert set(environment) <= FIELDS
    assert (settings.host, settings.port, settings.log_format) == (
        "0.0.0.0",  # noqa: S104  # the image listens on every interface
        9000,
        "json",
    )
