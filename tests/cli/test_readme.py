"""The README's command table is checked against the CLI's own parser: every command documented, with the
options it takes, and nothing documented that does not exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cli.main import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\| `newsdesk ([a-z-]+)([^`]*)` \|", README.read_text(), re.M)
    return {name: rest for name, rest in rows}


def test_every_command_is_in_the_readme_table_and_every_row_is_a_command():
    assert set(_documented()) == set(_commands())


def test_the_options_the_readme_shows_are_the_commands_own():
    commands = _commands()
    for name, usage in _documented().items():
        shown = set(re.findall(r"--[a-z-]+", usage))
        own = {o for a in commands[name]._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
        assert shown == own, f"newsdesk {name}: README shows {sorted(shown - own)}, lacks {sorted(own - shown)}"
