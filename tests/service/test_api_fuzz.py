"""Never a 500 for anything a client can send: bodies fuzzed with hypothesis.

Bodies mix the endpoint's own field names (so validation goes deep) with junk keys,
and values of every JSON type: huge integers, NaN and infinities (Python's json
writes them), numbers at and just past the bounds (issue 24: levels, target losses,
GPU counts, denormals, 1e200), strings, nested containers, fits holding constants at
any of them. Every answer must be a 2xx, 404, 409 or 422 with a JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flopwise.service.config import Settings
from tests.service.conftest import live_app

FIELDS = {
    "/v1/allocate": [
        "flops",
        "gpu_hours",
        "dollars",
        "gpu",
        "mfu",
        "n_gpus",
        "price_per_gpu_hour",
        "law",
        "inference_tokens",
        "unique_tokens",
        "constraints",
        "level",
        "throughput",
        "deadline_hours",
        "batch_tokens",
        "max_wall_clock_hours",
        "b_noise_tokens",
        "experts",
        "top_k",
    ],
    "/v1/overspend": [
        "law",
        "throughput",
        "width",
        "depth",
        "target_loss",
        "flops",
        "n_gpus",
        "batch_tokens",
        "constraints",
    ],
    "/v1/hyperparams": ["law", "params", "tokens", "model_scale", "sequence_length", "level"],
    "/v1/count": ["width", "depth", "heads", "kv_heads", "ffn", "vocab", "experts", "top_k"],
    "/v1/predict": [
        "law",
        "params",
        "tokens",
        "width",
        "depth",
        "unique_tokens",
        "level",
        "schedule",
        "curve",
    ],
    "/v1/runs/fuzz/a-run/forecast": ["law", "params", "schedule", "observations", "level", "curve"],
    "/v1/frontier": ["law", "flops", "flops_min", "flops_max", "points", "constraints", "level"],
    "/v1/fits": ["dataset", "form", "method", "options"],
    "/v1/calibrations": [
        "dataset",
        "flops",
        "gpu_hours",
        "gpu",
        "time_cap_hours",
        "device",
        "max_runs",
    ],
}
CONSTRAINTS = [
    "min_width",
    "max_width",
    "min_depth",
    "max_depth",
    "aspect_ratio",
    "head_dim",
    "kv_group",
]
RUN_FIELDS = [
    "dataset",
    "run",
    "params",
    "tokens",
    "loss",
    "width",
    "depth",
    "flops",
    "tags",
    "unique_tokens",
    "epochs",
    "lr",
    "schedule",
]
SCHEDULE = [
    "kind",
    "peak_lr",
    "warmup_tokens",
    "final_lr_fraction",
    "decay_tokens",
    "total_tokens",
    "cooldown",
]

numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e21, 1e-300, 1e308, 0.5, 1, 64, 1e10, 1e35, 1e36]),
    st.sampled_from([5e-324, 0.01, 0.998, 0.999, 3.2, 100.0, 100.5, 1e5, 1e200, 1024, 28]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.text(max_size=20),
    st.sampled_from(
        [
            "h100",
            "epoch-2024",
            "gemstones-2025@1",
            "kaplan-2020",
            "chinchilla",
            "approach1",
            "auto",
            "1e21",
            "gemstones-mi250x",
            "deepseek-2024",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


FIT_OPTIONS = st.dictionaries(
    st.sampled_from(["fix", "tie", "budgets", "delta", "bootstrap"]),
    numbers | st.dictionaries(st.sampled_from(["E", "A", "alpha", ""]), numbers) | values,
    max_size=3,
)


kinds = st.sampled_from(["cosine", "wsd", "constant", "linear", "1-sqrt"])
schedules = st.dictionaries(st.sampled_from(SCHEDULE), values | numbers | kinds, max_size=6)


def body_for(path: str) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from([*FIELDS[path], "junk"])
    constraints = st.dictionaries(st.sampled_from(CONSTRAINTS), values | numbers, max_size=4)
    nested = constraints | FIT_OPTIONS | schedules
    return st.dictionaries(keys, values | numbers | nested, max_size=6)


run = st.dictionaries(st.sampled_from(RUN_FIELDS), values | numbers | schedules, max_size=9)
runs_body = st.one_of(
    st.fixed_dictionaries({"runs": st.lists(run, max_size=3)}),
    st.dictionaries(st.sampled_from(["runs", "x"]), values, max_size=2),
)

ACCEPTABLE = {200, 202, 404, 409, 422}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), workers=0, allow_calibrations=True
    )
    with (
        live_app(settings_, start_workers=False) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def check(response: httpx.Response) -> None:
    assert response.status_code in ACCEPTABLE, (response.status_code, response.text)
    response.json()


def post(http: httpx.Client, path: str, body: Any) -> httpx.Response:
    content = json.dumps(body)  # NaN and Infinity as Python writes them
    return http.post(path, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_fuzzed_bodies_never_500(http: httpx.Client, path: str) -> None:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=body_for(path))
    def run_one(body: dict[str, Any]) -> None:
        check(post(http, path, body))

    run_one()


def test_fuzzed_run_batches_never_500(http: httpx.Client) -> None:
    @settings(max_examples=150, deadline=None)
    @given(body=runs_body)
    def run_one(body: dict[str, Any]) -> None:
        check(post(http, "/v1/runs", body))

    run_one()


def test_non_json_and_wrong_types(http: httpx.Client) -> None:
    for path in [*FIELDS, "/v1/runs"]:
        for raw in (b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"flops": 1e999}', b"1e21"):
            r = http.post(path, content=raw, headers={"content-type": "application/json"})
            assert r.status_code in {400, 422}, (path, raw, r.status_code, r.text)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "100000"},
        {"offset": "-1"},
        {"offset": "1e400"},
        {"dataset": "bad name!"},
        {"dataset": "x" * 1000},
        {"run": "r" * 1000},
        {"limit": "abc"},
    ],
)
def test_bad_query_parameters(http: httpx.Client, query: dict[str, str]) -> None:
    assert http.get("/v1/runs", params=query).status_code == 422
    assert http.get("/v1/jobs", params={"status": "weird"}).status_code == 422
