"""Fuzzed bodies for the hyper-parameter and critical-batch endpoints (and the new
``/v1/allocate`` fields): a 422 naming a field or an answer, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.test_api_fuzz import check, numbers, post, values

FIELDS = {
    "/v1/hyperparams": ["law", "params", "tokens", "model_scale", "sequence_length", "level"],
    "/v1/hyperparams/fit": [
        "runs",
        "dataset",
        "batch_in_sequences",
        "sequence_length",
        "n_definition",
        "bootstrap",
    ],
    "/v1/critical-batch/fit": ["rows", "bootstrap", "seed", "level"],
    "/v1/allocate": [
        "gpu_hours",
        "throughput",
        "max_wall_clock_hours",
        "b_noise_tokens",
        "hyperparameters",
        "n_gpus",
    ],
}
ROW_KEYS = ["params", "tokens", "learning_rate", "batch_size", "loss", "batch", "steps", "group"]
SAMPLES = st.sampled_from(["step-law-2025", "olmo-ladder-2024", "h100-default", 1e9, 4096, 100.0])


def body_for(path: str) -> st.SearchStrategy[dict[str, Any]]:
    row = st.dictionaries(st.sampled_from(ROW_KEYS), values | numbers, max_size=6)
    listed = st.lists(row, max_size=5)
    return st.dictionaries(
        st.sampled_from([*FIELDS[path], "junk"]), values | numbers | listed | SAMPLES, max_size=6
    )


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_fuzzed_bodies_never_500(query_client: httpx.Client, path: str) -> None:
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=body_for(path))
    def run_one(body: dict[str, Any]) -> None:
        check(post(query_client, path, body))

    run_one()
