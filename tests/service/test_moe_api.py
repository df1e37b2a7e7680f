"""``POST /v1/count`` and ``/v1/allocate`` with experts: the MoE plan beside the dense
one, and the same answers from ``flopwise count`` / ``flopwise allocate`` (exit 2 with one
line naming the flag on bad input)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.service.test_cli_allocate import flopwise

MIXTRAL = {
    "width": 4096, "depth": 32, "heads": 32, "kv_heads": 8, "ffn": 14336, "experts": 8,
    "top_k": 2, "vocab": 32000,
}  # fmt: skip


def _flags(body: dict[str, object]) -> list[str]:
    return [x for k, v in body.items() for x in (f"--{k.replace('_', '-')}", str(v))]


def test_count_mixtral_over_http(query_client: httpx.Client) -> None:
    got = query_client.post("/v1/count", json={**MIXTRAL, "gpu": "h100"})
    assert got.status_code == 200, got.text
    out = got.json()
    assert (out["total_params"], out["active_params"]) == (46_702_792_704, 12_879_925_248)
    assert out["flops_per_token"] == 6 * out["active_params"]
    assert out["memory_bytes"] == 16 * out["total_params"] and out["min_gpus"] == 9
    assert out["sparsity"] == 0.75


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"top_k": 9}, "top_k"),
        ({"kv_heads": 7}, "kv_heads"),
        ({"dense_layers": 32}, "dense_layers"),
        ({"gpu": "nope"}, "gpu"),
        ({"experts": 0}, "experts"),
    ],
)
def test_count_refuses_bad_input_naming_the_field(
    query_client: httpx.Client, change: dict[str, object], field: str
) -> None:
    got = query_client.post("/v1/count", json={**MIXTRAL, **change})
    assert got.status_code == 422, got.text
    assert field in got.text


def test_allocate_moe_and_dense_side_by_side(query_client: httpx.Client) -> None:
    body = {"flops": 1e20, "experts": 64, "top_k": 1, "gpu": "h100"}
    got = query_client.post("/v1/allocate", json=body)
    assert got.status_code == 200, got.text
    out = got.json()
    moe = out["moe"]
    assert out["law"]["id"] == "krajewski-2024-dense" and moe["law"]["id"] == "krajewski-2024"
    assert moe["total_params"] > 20 * moe["active_params"]
    assert moe["loss"] < out["loss"]
    assert moe["min_gpus"] >= 1 and out["min_gpus"] >= 1
    assert moe["shape"]["experts"] == 64 and moe["shape"]["top_k"] == 1
    bad = query_client.post("/v1/allocate", json={**body, "moe_law": "epoch-2024"})
    assert bad.status_code == 422 and "moe_law" in bad.text
    assert query_client.post("/v1/allocate", json={"flops": 1e20, "top_k": 2}).status_code == 422


def test_allocate_optimal_vocabulary(query_client: httpx.Client) -> None:
    got = query_client.post("/v1/allocate", json={"flops": 1e21, "vocab": "optimal"})
    assert got.status_code == 200, got.text
    out = got.json()
    vocab = out["vocabulary"]
    assert vocab["isoflops"] < vocab["derivative"] and vocab["parametric"] > 0
    assert out["moe"] is None


def test_cli_count_and_allocate_match_the_api(query_client: httpx.Client) -> None:
    cli = flopwise("count", *_flags(MIXTRAL), "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == query_client.post("/v1/count", json=MIXTRAL).json()
    body = {"flops": 1e20, "experts": 64, "top_k": 1}
    cli = flopwise("allocate", *_flags(body), "--json")
    assert cli.returncode == 0, cli.stderr
    assert (
        json.loads(cli.stdout)["moe"] == query_client.post("/v1/allocate", json=body).json()["moe"]
    )
    bad = flopwise("count", *_flags({**MIXTRAL, "top_k": 9}))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--top-k" in bad.stderr
