"""The CLI and the HTTP API answer the same query with the same JSON (issues 10, 18),
for every built-in law: ``flopwise allocate/predict/frontier/overspend --json`` against
a real ``flopwise serve``. Both build the API's request model, call the same answer
function (``service.queries``) and write it through the API's response model."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.service.cli import run
from tests.e2e.conftest import ServerProcess


@pytest.fixture
def api(flopwise_server: Callable[..., ServerProcess]) -> Iterator[httpx.Client]:
    server = flopwise_server({}, workers=0)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    """Exit status and parsed stdout (``None`` when it failed) of one CLI call."""
    capsys.readouterr()
    code = run([*argv, "--json"])
    out = capsys.readouterr()
    if code != 0:
        assert out.out == "" and len(out.err.strip().splitlines()) == 1, out
        return code, None
    return code, json.loads(out.out)


def http_answer(api: httpx.Client, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    r = api.post(path, json=body)
    return r.status_code, (r.json() if r.status_code == 200 else None)


def both(
    api: httpx.Client, capsys: pytest.CaptureFixture[str], what: str, body: dict[str, Any]
) -> tuple[tuple[int, Any], tuple[int, Any]]:
    argv = [what]
    for key, value in body.items():
        if isinstance(value, dict):  # constraints: one flag each on the command line
            for inner, item in value.items():
                argv += [f"--{inner.replace('_', '-')}", str(item)]
        for item in (
            value if isinstance(value, list) else [] if isinstance(value, dict) else [value]
        ):
            argv += [f"--{key.replace('_', '-')}", str(item)]
    return http_answer(api, f"/v1/{what}", body), cli(capsys, *argv)


def test_every_builtin_law_answers_the_same_on_both(
    api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    answered: Counter[str] = Counter()
    for law_id, law in BUILTIN_LAWS.items():
        queries = [
            ("allocate", {"law": law_id, "flops": 1e21}),
            ("allocate", {"law": f"{law_id}@1", "gpu_hours": 1e4, "gpu": "h100", "n_gpus": 8}),
            ("predict", {"law": law_id, "params": 1e9, "tokens": 2e10}),
            ("predict", {"law": law_id, "width": 1024, "depth": 28, "tokens": 3.5e11}),
            ("frontier", {"law": law_id, "flops": [1e19, 1e21, 1e23]}),
            ("frontier", {"law": law_id, "flops_min": 1e20, "flops_max": 1e22, "points": 3}),
            (
                "allocate",
                {"law": law_id, "flops": 1e21, "constraints": {"max_depth": 40, "head_dim": 64}},
            ),
            (
                "overspend",
                {
                    "law": law_id,
                    "throughput": "gemstones-mi250x",
                    "width": 1024,
                    "depth": 28,
                    "n_gpus": 64,
                    "flops": 1e21,
                },
            ),
            (
                "allocate",
                {
                    "law": law_id,
                    "gpu_hours": 1e4,
                    "gpu": "mi250x-gcd",
                    "n_gpus": 64,
                    "throughput": "gemstones-mi250x",
                },
            ),
        ]
        for what, body in queries:
            (status, over_http), (code, offline) = both(api, capsys, what, body)
            assert (status == 200) == (code == 0), (law_id, what, status, code)
            if status == 200:
                assert offline == over_http, (law_id, what)
                answered[what] += 1
        assert law.version == 1
    assert answered["allocate"] >= 40 and answered["predict"] >= 10
    assert answered["frontier"] >= 30 and answered["overspend"] >= 5


def test_versions_are_honoured_and_checked_on_both(
    api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    for ref in ("epoch-2024@7", "epoch-2024@", "epoch-2024@x", "epoch-2024@\u00b2"):
        (status, _), (code, _) = both(api, capsys, "allocate", {"law": ref, "flops": 1e21})
        assert (status, code) == (422, 2), ref
