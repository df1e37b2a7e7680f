"""The OpenAPI document states the cross-field rules, and states them as the service
enforces them (issue 24).

Seven operations refuse schema-valid bodies by rules across their fields. Each now
declares those rules in its request body's JSON Schema (``allOf``: ``oneOf`` for exactly
one, ``if``/``then`` for needs and excludes; ``null`` counts as absent, as the API reads
it) and the rest, which depend on the law or compare numbers, in its description. Every
case below is one body checked twice: against the schema from ``/openapi.json``
(Draft 2020-12, ``jsonschema_rs`` as schemathesis validates) and against the server, which must agree: a body the
schema refuses is a 422 naming a field of the rule it breaks, one it accepts is answered.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema_rs import Draft202012Validator

from flopwise.service.config import Settings
from tests.service.conftest import live_app

RULED = {
    ("post", "/v1/allocate"): "AllocateRequest",
    ("post", "/v1/predict"): None,  # one point or a list: the body schema is inline
    ("post", "/v1/frontier"): "FrontierRequest",
    ("post", "/v1/overspend"): "OverspendRequest",
    ("post", "/v1/count"): "CountRequest",
    ("post", "/v1/hyperparams"): "HyperparamsRequest",
    ("post", "/v1/calibrations"): "CalibrationCreate",
}
TIMED = {"law": "gemstones-2025", "throughput": "gemstones-mi250x", "gpu_hours": 1000}
SHAPE = {"law": "gemstones-2025", "throughput": "gemstones-mi250x", "width": 1024, "depth": 28}
MODEL = {"width": 1024, "depth": 8, "heads": 8, "ffn": 4096, "vocab": 32000}
SWEEP = {"dataset": "rules", "time_cap_hours": 1.0}

# (path, body, fields one of which a refusal names; None: the body keeps every rule)
CASES: list[tuple[str, dict[str, Any], set[str] | None]] = [
    ("/v1/allocate", {"flops": 1e21}, None),
    ("/v1/allocate", {"flops": 1e21, "gpu_hours": None, "dollars": None}, None),
    ("/v1/allocate", {}, {"flops", "gpu_hours", "dollars"}),
    ("/v1/allocate", {"flops": 1e21, "gpu_hours": 10, "gpu": "h100"}, {"flops", "gpu_hours"}),
    ("/v1/allocate", {"gpu_hours": 100, "gpu": "h100"}, None),
    (
        "/v1/allocate",
        {"flops": 1e21, "gpu_hours": 10, "gpu": "h100", "target": {"metric": "m", "value": 1}},
        {"flops", "gpu_hours"},
    ),
    ("/v1/allocate", {"gpu_hours": 100}, {"gpu"}),
    ("/v1/allocate", {"dollars": 1000, "gpu": "h100"}, {"price_per_gpu_hour"}),
    ("/v1/allocate", {"flops": 1e21, "price_per_gpu_hour": 2.0}, {"price_per_gpu_hour", "gpu"}),
    ("/v1/allocate", {"flops": 1e21, "max_wall_clock_hours": 5}, {"max_wall_clock_hours"}),
    ("/v1/allocate", {"flops": 1e21, "b_noise_tokens": 1e6}, {"b_noise_tokens"}),
    ("/v1/allocate", {"flops": 1e21, "top_k": 2}, {"top_k"}),
    ("/v1/allocate", {"flops": 1e21, "top_k": 2, "experts": 8}, None),
    ("/v1/allocate", {**TIMED, "n_gpus": 64}, None),
    ("/v1/allocate", {**TIMED, "max_wall_clock_hours": 100}, None),
    ("/v1/allocate", {**TIMED, "n_gpus": 64, "flops": 1e21}, {"flops", "gpu_hours"}),
    ("/v1/allocate", {**TIMED, "n_gpus": 64, "unique_tokens": 1e9}, {"unique_tokens"}),
    ("/v1/allocate", TIMED, {"n_gpus", "deadline_hours", "max_wall_clock_hours"}),
    ("/v1/allocate", {**TIMED, "n_gpus": 64, "deadline_hours": 3}, {"n_gpus", "deadline_hours"}),
    ("/v1/allocate", {**TIMED, "n_gpus": 64, "top_k": 2}, {"top_k"}),
    ("/v1/predict", {"params": 1e9, "tokens": 1e10}, None),
    ("/v1/predict", {"width": 1024, "depth": 16, "tokens": 1e10}, None),
    ("/v1/predict", {"tokens": 1e10}, {"params", "width", "depth"}),
    ("/v1/predict", {"width": 1024, "tokens": 1e10}, {"params", "width", "depth"}),
    ("/v1/frontier", {"flops": [1e21]}, None),
    ("/v1/frontier", {"flops_min": 1e20, "flops_max": 1e22, "points": 3}, None),
    ("/v1/frontier", {"flops": [1e21], "flops_min": 1e20}, {"flops", "flops_min"}),
    ("/v1/frontier", {"flops_min": 1e20}, {"flops", "flops_min", "flops_max"}),
    ("/v1/overspend", {**SHAPE, "n_gpus": 64, "target_loss": 3.2}, None),
    ("/v1/overspend", {**SHAPE, "n_gpus": 64}, {"target_loss", "flops"}),
    ("/v1/overspend", {**SHAPE, "n_gpus": 64, "target_loss": 3.2, "flops": 1e21}, {"target_loss"}),
    ("/v1/count", MODEL, None),
    ("/v1/count", {**MODEL, "top_k": 2}, {"top_k"}),
    ("/v1/count", {**MODEL, "top_k": 2, "experts": 8}, None),
    ("/v1/hyperparams", {"params": 1e9, "tokens": 1e11, "model_scale": 6e9}, {"model_scale"}),
    (
        "/v1/hyperparams",
        {"law": "deepseek-2024", "params": 1e9, "tokens": 1e11, "model_scale": 6e9},
        None,
    ),
    ("/v1/calibrations", {**SWEEP, "flops": 1e13}, None),
    ("/v1/calibrations", SWEEP, {"flops", "gpu_hours"}),
    (
        "/v1/calibrations",
        {**SWEEP, "flops": 1e13, "gpu_hours": 5, "gpu": "h100"},
        {"flops", "gpu_hours"},
    ),
    ("/v1/calibrations", {**SWEEP, "gpu_hours": 5}, {"gpu"}),
]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("rules"),
        workers=0,
        allow_calibrations=True,
        trainer_command=[sys.executable, "-c", "pass"],
    )
    with (
        live_app(settings, start_workers=False) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def openapi(http: httpx.Client) -> dict[str, Any]:
    document: dict[str, Any] = http.get("/openapi.json").json()
    return document


def body_schema(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    """The request body's schema with its ``$ref`` resolved (one level)."""
    schema: dict[str, Any] = openapi["paths"][path]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def validator(openapi: dict[str, Any], path: str) -> Draft202012Validator:
    """The body's schema as a validator (schemathesis's own, ``jsonschema_rs``), with the
    document's components beside it so that every ``#/components/...`` resolves."""
    content = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return Draft202012Validator({**content["schema"], "components": openapi["components"]})


@pytest.mark.parametrize(("method", "path"), sorted(RULED))
def test_each_ruled_operation_declares_its_rules(
    openapi: dict[str, Any], method: str, path: str
) -> None:
    schema = body_schema(openapi, path)
    one = schema["anyOf"][0] if RULED[(method, path)] is None else schema
    assert one.get("allOf"), f"{path}: no rules in the schema"
    keywords = {k for rule in one["allOf"] for k in rule}
    assert keywords <= {"oneOf", "anyOf", "if", "then"}, keywords
    assert "Cross-field rules" in one["description"], f"{path}: rules not described"


def test_allocate_states_each_budget_rule(openapi: dict[str, Any]) -> None:
    rules = body_schema(openapi, "/v1/allocate")["allOf"]
    exactly = [r["oneOf"] for r in rules if "oneOf" in r]
    assert [sorted(a["required"]) for a in exactly[0]] == [["flops"], ["gpu_hours"], ["dollars"]]
    needs = [(r["if"].get("required"), r["then"].get("required")) for r in rules if "if" in r]
    assert (["dollars"], ["price_per_gpu_hour"]) in needs
    assert (["top_k"], ["experts"]) in needs


@pytest.mark.parametrize(("path", "body", "fields"), CASES)
def test_the_schema_and_the_server_agree(
    http: httpx.Client,
    openapi: dict[str, Any],
    path: str,
    body: dict[str, Any],
    fields: set[str] | None,
) -> None:
    errors = list(validator(openapi, path).iter_errors(body))
    answer = http.post(path, json=body)
    if fields is None:
        assert errors == [], [e.message for e in errors]
        assert answer.status_code in (200, 202), answer.text
    else:
        assert errors, f"the schema accepts {body}"
        assert answer.status_code == 422, answer.text
        named = {str(loc) for issue in answer.json()["detail"] for loc in issue["loc"][1:2]}
        assert named & fields, (named, answer.text)


def test_every_operation_with_a_body_documents_a_body_it_cannot_read(
    openapi: dict[str, Any],
) -> None:
    """A body that is not UTF-8 JSON is a 400, a slow one a 408, a large one a 413, on
    every operation that reads one: each must say so, or a client generated from the
    document (and the fuzzer) meets a status it was never told of."""
    missing = [
        f"{method.upper()} {path}: {code}"
        for path, item in openapi["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "requestBody" in op
        for code in ("400", "408", "413")
        if code not in op["responses"]
    ]
    assert not missing, missing
