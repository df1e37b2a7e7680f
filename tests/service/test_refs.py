"""One ``id@version`` parser (``service.refs``), and the request schemas' pattern
accepts exactly what it accepts."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from flopwise.service.refs import MAX_ID, RefError, parse_ref
from flopwise.service.schemas.common import LawRef

BAD_VERSIONS = [
    "",
    "\u00b2",  # superscript two: str.isdigit() is True, int() refuses it
    "\u0661",  # Arabic-Indic one: int() reads 1
    "\uff11",  # fullwidth one
    "1" * 4301,  # past int()'s limit on digits
    "1" * 10,
    "x",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1.0",
    "0x1",
    "1@2",
]
BAD_IDS = ["\u00e9poque", "a b", "-lead", ".hidden", "a/b", "a" * (MAX_ID + 1), "", "a\n"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("epoch-2024", ("epoch-2024", None)),
        ("epoch-2024@1", ("epoch-2024", 1)),
        ("epoch-2024@007", ("epoch-2024", 7)),
        ("a@999999999", ("a", 999_999_999)),
        ("d.v2_x-chinchilla@12", ("d.v2_x-chinchilla", 12)),
        ("a" * MAX_ID, ("a" * MAX_ID, None)),
    ],
)
def test_parse_ref_reads_an_id_and_an_optional_version(
    text: str, parsed: tuple[str, int | None]
) -> None:
    assert parse_ref(text) == parsed
    assert TypeAdapter(LawRef).validate_python(text) == text  # the schemas agree


@pytest.mark.parametrize(
    "text", [f"epoch-2024@{v}" for v in BAD_VERSIONS] + [*BAD_IDS, *(f"{i}@1" for i in BAD_IDS)]
)
def test_parse_ref_refuses_anything_else_naming_the_field(text: str) -> None:
    with pytest.raises(RefError) as caught:
        parse_ref(text, "throughput")
    assert caught.value.name == "throughput" and str(caught.value).startswith("throughput: ")
    assert len(str(caught.value)) < 400  # a 4,301-digit version is not quoted back whole
    with pytest.raises(ValidationError):
        TypeAdapter(LawRef).validate_python(text)
