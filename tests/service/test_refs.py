"""One ``id@version`` parser (``service.refs``), and every route that takes a law or
throughput reference treats a malformed one the same way: a 404 on a path, a 422 naming
the field in a body or a query, never a 500 and never another version.

Before the one parser, ``GET /v1/throughput/<id>@²`` and ``@<4,301 digits>`` answered
500 (``str.isdigit`` takes them, ``int`` refuses them) and ``<id>@١`` answered version 1.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from flopwise.service.refs import MAX_ID, RefError, parse_ref
from flopwise.service.schemas.common import LawRef
from tests.service.conftest import SettingsFactory, live_app
from tests.service.publishing import publish_law, publish_model, writing

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
TIME_QUERY = {"law": "gemstones-2025", "gpu_hours": 1e4, "n_gpus": 256}


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


def _detail(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (response.request.url, response.text[:300])
    return response.json()["detail"]


def _locs(response: httpx.Response) -> list[list[Any]]:
    return [list(d["loc"]) for d in _detail(response, 422)]


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_every_route_refuses_a_malformed_version(query_client: httpx.Client, version: str) -> None:
    quoted = quote(version, safe="@")
    for path, field in (
        (f"/v1/laws/epoch-2024@{quoted}", "law"),
        (f"/v1/laws/epoch-2024@{quoted}/plot.png", "law"),
        (f"/v1/throughput/gemstones-mi250x@{quoted}", "throughput"),
    ):
        assert str(_detail(query_client.get(path), 404)).startswith(f"{field}: "), path
    _refused_in_bodies(query_client, f"epoch-2024@{version}", f"gemstones-mi250x@{version}")


@pytest.mark.parametrize("ident", [i for i in BAD_IDS if i and "/" not in i])
def test_every_route_refuses_a_malformed_id(query_client: httpx.Client, ident: str) -> None:
    quoted = quote(ident, safe="")
    for path in (f"/v1/laws/{quoted}", f"/v1/laws/{quoted}/plot.png", f"/v1/throughput/{quoted}"):
        _detail(query_client.get(path), 404)
    _refused_in_bodies(query_client, ident, ident)


def _refused_in_bodies(http: httpx.Client, law: str, model: str) -> None:
    assert ["body", "law"] in _locs(http.post("/v1/allocate", json={"flops": 1e21, "law": law}))
    assert ["body", "law"] in _locs(http.post("/v1/predict", json={"law": law, "params": 1e9}))
    timed = http.post("/v1/allocate", json={**TIME_QUERY, "throughput": model})
    assert ["body", "throughput"] in _locs(timed)
    overspend = {"width": 256, "depth": 80, "target_loss": 3.2, "n_gpus": 128}
    assert ["body", "throughput"] in _locs(
        http.post("/v1/overspend", json={**overspend, "throughput": model})
    )
    plot = {"throughput": model, "target_loss": 3.2, "n_gpus": 128}
    assert ["query", "throughput"] in _locs(http.get("/v1/overspend/plot.png", params=plot))


def test_a_published_version_is_named_in_ascii_digits_only(
    make_settings: SettingsFactory, store_url: str
) -> None:
    with writing(store_url) as session:
        assert publish_model(session, "lab-h100", "j1").version == 1
        assert publish_law(session, "lab-chinchilla", "j1").version == 1
    with live_app(make_settings(), start_workers=False) as url, httpx.Client(base_url=url) as http:
        for ref in ("lab-h100", "lab-h100@1", "lab-h100@01"):
            assert http.get(f"/v1/throughput/{ref}").json()["version"] == 1, ref
        assert http.get("/v1/laws/lab-chinchilla@1").json()["version"] == 1
        one = "\u0661"
        assert "has no" not in str(_detail(http.get(f"/v1/throughput/lab-h100@{one}"), 404))
        _detail(http.get(f"/v1/throughput/lab-h100@{'1' * 4301}"), 404)
        _detail(http.get(f"/v1/laws/lab-chinchilla@{one}"), 404)
        _detail(http.get("/v1/throughput/lab-h100@2"), 404)
        _refused_in_bodies(http, f"lab-chinchilla@{one}", f"lab-h100@{one}")
        body = {**TIME_QUERY, "law": "epoch-2024", "throughput": "lab-h100@1"}
        assert http.post("/v1/allocate", json=body).json()["throughput"]["version"] == 1
