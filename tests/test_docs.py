"""The docs stay true to the code (issue 18): every setting is in docs/operations.md, every
command is in the README or the operations guide, docs/README.md lists every document,
and the README keeps exactly its two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flopwise.service.cli.app import COMMANDS
from flopwise.service.config import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
OPERATIONS = (REPO / "docs" / "operations.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`FLOPWISE_{name.upper()}`" in OPERATIONS, f"FLOPWISE_{name.upper()}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_shown(command: str) -> None:
    pattern = re.compile(rf"flopwise {re.escape(command)}(?![\w-])")
    assert pattern.search(README) or pattern.search(OPERATIONS), command


def test_docs_index_lists_every_document() -> None:
    index = (REPO / "docs" / "README.md").read_text()
    for path in sorted((REPO / "docs").glob("*.md")):
        if path.name != "README.md":
            assert f"({path.name})" in index, path.name


def test_readme_keeps_two_set_up_commands() -> None:
    set_up = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", set_up, flags=re.S | re.M)
    assert [b.strip() for b in blocks] == ["pip install . && flopwise serve", ".ci/run"]
