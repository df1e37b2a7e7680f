"""The repository stands on its own: no file reaches outside it, and what it cites exists.

Code and tests cite the project's own reference as ``docs/laws.md §N`` (or
``§11 row K``). This checks that no tracked file points at a folder beside the
repository, that code and tests name no ``laws.md`` but ``docs/laws.md``, that every
cited section and acceptance-check row is in ``docs/laws.md``, and that the reference
covers every built-in law. Files are listed with ``git ls-files`` (a walk of the tree
where git is not available), so a fresh clone checks exactly what it ships.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

from flopwise.fitting.catalogue import BUILTIN_LAWS
from tests.shared_data import REPO

DOCS = REPO / "docs"
LAWS = DOCS / "laws.md"
THIS = Path(__file__).resolve().relative_to(REPO).as_posix()

CODE_DIRS = ("fitting/", "protocol/", "service/", "trainer/", "tests/", "bench/", ".ci/")
"""Where code, tests and tooling live: every ``laws.md`` they mention is ``docs/laws.md``."""
SKIPPED_WALK = {"__pycache__", "build", "dist", "flopwise-data"}
"""Build outputs and run data; hidden folders other than ``.ci`` are skipped too (caches, venvs)."""

SIBLING = "shared"
"""The workplace's folder beside the checkout, which a user's clone does not have."""
OUTSIDE = re.compile(rf"\.\./{SIBLING}|/work/{SIBLING}")
LAWS_MENTION = re.compile(r"([\w./-]*)laws\.md")
OWN_LAWS = re.compile(r"(?:\.\./)*docs/")
CITATION = re.compile(r"docs/laws\.md\s+((?:§[\d.]*\d(?:\s+rows?\s+\d+)?(?:\s*(?:,|and|/)\s*)?)+)")
CITED_ITEM = re.compile(r"§([\d.]*\d)(?:\s+rows?\s+(\d+))?")
HEADING = re.compile(r"^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
TABLE_ROW = re.compile(r"^\|\s*(\d+)\s*\|", re.MULTILINE)


def _skipped(folder: str) -> bool:
    hidden = folder.startswith(".") and folder != ".ci"
    return hidden or folder in SKIPPED_WALK or folder.endswith(".egg-info")


def _walk() -> list[str]:
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not _skipped(d)]
        found += [Path(root, f).relative_to(REPO).as_posix() for f in files]
    return found


@cache
def _tracked() -> tuple[str, ...]:
    """Repository-relative paths of the tracked regular text files."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout.decode()
        names = [n for n in listing.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = _walk()
    return tuple(n for n in sorted(names) if (REPO / n).is_file() and not (REPO / n).is_symlink())


@cache
def _text(name: str) -> str | None:
    data = (REPO / name).read_bytes()
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def _lines_matching(names: list[str], pattern: re.Pattern[str]) -> list[str]:
    """``path:line: text`` for every line of ``names`` where ``pattern`` matches."""
    hits = []
    for name in names:
        text = _text(name) or ""
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{name}:{number}: {line.strip()}")
    return hits


def _code_files() -> list[str]:
    return [n for n in _tracked() if n != THIS and n.startswith(CODE_DIRS)]


def _laws_sections() -> tuple[set[str], set[str]]:
    """Section numbers of ``docs/laws.md`` and the row numbers of its §11 table."""
    text = LAWS.read_text(encoding="utf-8")
    sections = set(HEADING.findall(text))
    checks = re.search(r"^## 11\..*?(?=^## )", text, re.MULTILINE | re.DOTALL)
    rows = set(TABLE_ROW.findall(checks.group(0))) if checks else set()
    return sections, rows


def test_listing_sees_the_repository() -> None:
    names = _tracked()
    assert "fitting/catalogue.py" in names and "tests/shared_data.py" in names
    assert "docs/laws.md" in names


def test_walk_fallback_finds_every_tracked_file() -> None:
    walked = set(_walk())
    assert [n for n in _tracked() if n not in walked] == []


def test_nothing_points_outside_the_repository() -> None:
    names = [n for n in _tracked() if n != THIS]
    assert _lines_matching(names, OUTSIDE) == []


def test_every_laws_md_is_the_projects_own() -> None:
    strays = []
    for name in _code_files():
        text = _text(name) or ""
        if "laws.md" not in text:
            continue
        for match in LAWS_MENTION.finditer(text):
            if not OWN_LAWS.fullmatch(match.group(1)):
                strays.append(f"{name}: {match.group(0)}")
    assert strays == []


def _citations() -> list[tuple[str, str, str | None]]:
    """(file, section, row or None) for every ``docs/laws.md §...`` in code and tests."""
    cited = []
    for name in _code_files():
        for match in CITATION.finditer(_text(name) or ""):
            for section, row in CITED_ITEM.findall(match.group(1)):
                cited.append((name, section, row or None))
    return cited


def test_every_cited_section_exists() -> None:
    sections, rows = _laws_sections()
    assert {"0", "11", "12"} <= sections and len(rows) == 16
    cited = _citations()
    assert len(cited) > 30  # the code cites the reference throughout
    missing = [f"{name}: §{section}" for name, section, _ in cited if section not in sections]
    assert missing == []
    bad_rows = [
        f"{name}: §{section} row {row}"
        for name, section, row in cited
        if row is not None and (section != "11" or row not in rows)
    ]
    assert bad_rows == []


def test_reference_describes_every_builtin_law() -> None:
    text = LAWS.read_text(encoding="utf-8")
    assert [law_id for law_id in BUILTIN_LAWS if f"`{law_id}`" not in text] == []
    assert f"../{SIBLING}" not in text


def test_citation_pattern_reads_lists_and_rows() -> None:
    line = "see docs/laws.md §8.4 and §11 row 15, §3.1 / §11 rows 4: exact."
    cited = CITATION.search(line)
    assert cited is not None
    assert CITED_ITEM.findall(cited.group(1)) == [
        ("8.4", ""),
        ("11", "15"),
        ("3.1", ""),
        ("11", "4"),
    ]
    prefixes = [m.group(1) for m in LAWS_MENTION.finditer("`docs/laws.md`, reference/laws.md")]
    assert [bool(OWN_LAWS.fullmatch(p)) for p in prefixes] == [True, False]
