"""API contract: allocate, predict, frontier and the law catalogue, on built-in laws."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import BUILTIN_LAWS, builtin
from flopwise.fitting.hardware import GPUS


def loc_of(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    return list(response.json()["detail"][0]["loc"])


def test_allocate_flops_reproduces_the_core(query_client: httpx.Client) -> None:
    r = query_client.post("/v1/allocate", json={"flops": 5.76e23})
    assert r.status_code == 200, r.text
    out = r.json()
    expected = allocate(builtin("epoch-2024"), 5.76e23)
    assert out["law"] == {"id": "epoch-2024", "version": 1}
    assert out["params"] == pytest.approx(7.225e10, rel=0.01)
    assert out["tokens"] == pytest.approx(1.329e12, rel=0.01)
    assert out["params"] == pytest.approx(expected.params, rel=1e-12)
    assert out["loss"] == pytest.approx(expected.loss, rel=1e-12)
    assert out["tokens_per_param"] == pytest.approx(out["tokens"] / out["params"])
    shape = out["shape"]
    assert {"width", "depth", "n_heads", "n_kv_heads", "params", "flops_per_token"} <= set(shape)
    assert shape["width"] == shape["n_heads"] * shape["head_dim"]
    assert set(out["hyperparameters"]) >= {"batch_size_tokens", "learning_rate"}
    assert out["cost"] is None  # no GPU named: cost unknown
    assert any("outside the range" in w for w in out["caveats"])


def test_allocate_gpu_hours_costs_what_it_was_given(query_client: httpx.Client) -> None:
    body = {"gpu_hours": 1e5, "gpu": "h100", "mfu": 0.4, "n_gpus": 64}
    out = query_client.post("/v1/allocate", json=body).json()
    assert out["flops"] == pytest.approx(1e5 * 3600 * GPUS["h100"].peak_bf16_flops * 0.4)
    assert out["cost"]["gpu_hours"] == pytest.approx(1e5)
    assert out["cost"]["wall_clock_hours"] == pytest.approx(1e5 / 64)
    assert out["cost"]["dollars"] is None


def test_allocate_dollars(query_client: httpx.Client) -> None:
    body = {"dollars": 2e5, "gpu": "a100", "price_per_gpu_hour": 2.0}
    out = query_client.post("/v1/allocate", json=body).json()
    assert out["cost"]["dollars"] == pytest.approx(2e5)
    assert out["cost"]["gpu_hours"] == pytest.approx(1e5)


def test_allocate_law_version_constraints_and_options(query_client: httpx.Client) -> None:
    body = {
        "flops": 1e22,
        "law": "chinchilla-2022@1",
        "constraints": {"max_depth": 24, "kv_group": 4},
    }
    out = query_client.post("/v1/allocate", json=body).json()
    assert out["law"] == {"id": "chinchilla-2022", "version": 1}
    assert out["shape"]["depth"] <= 24
    assert out["shape"]["n_heads"] == 4 * out["shape"]["n_kv_heads"]
    plain = query_client.post("/v1/allocate", json={"flops": 1e22}).json()
    infer = query_client.post("/v1/allocate", json={"flops": 1e22, "inference_tokens": 1e13}).json()
    assert infer["params"] < plain["params"]  # inference demand favours smaller models
    assert infer["inference_flops"] > 0
    capped = query_client.post("/v1/allocate", json={"flops": 1e22, "unique_tokens": 1e10}).json()
    assert capped["epochs"] > 1


def test_allocate_width_depth_law_chooses_its_shape(query_client: httpx.Client) -> None:
    out = query_client.post("/v1/allocate", json={"flops": 1e21, "law": "gemstones-2025"}).json()
    expected = allocate(builtin("gemstones-2025"), 1e21)
    assert expected.shape is not None
    assert (out["shape"]["width"], out["shape"]["depth"]) == (
        expected.shape.width,
        expected.shape.depth,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"flops": 0}, "flops"),
        ({"flops": -1e20}, "flops"),
        ({"flops": "inf"}, "flops"),
        ({"flops": "NaN"}, "flops"),
        ({"flops": 1e40}, "flops"),
        ({"gpu_hours": 1e30, "gpu": "h100"}, "gpu_hours"),
        ({"flops": 1e21, "gpu_hours": 10, "gpu": "h100"}, "gpu_hours"),
        ({}, "flops"),
        ({"gpu_hours": 100}, "gpu"),
        ({"gpu_hours": 100, "gpu": "h900"}, "gpu"),
        ({"dollars": 100, "gpu": "h100"}, "price_per_gpu_hour"),
        ({"flops": 1e21, "law": "no-such-law"}, "law"),
        ({"flops": 1e21, "law": "epoch-2024@7"}, "law"),
        ({"flops": 1e21, "law": "epoch-2024@x"}, "law"),
        ({"flops": 1e21, "mfu": 1.5}, "mfu"),
        ({"flops": 1e21, "flop": 3}, "flop"),
        ({"flops": 1e21, "constraints": {"min_depth": 50, "max_depth": 10}}, "min_depth"),
        ({"flops": 1e21, "law": "gemstones-2025", "inference_tokens": 1e12}, "law"),
        # strict input (issue 10): no strings or booleans as numbers, counts are integers
        ({"flops": "1e21"}, "flops"),
        ({"flops": True}, "flops"),
        ({"gpu_hours": 100, "gpu": "h100", "n_gpus": "8"}, "n_gpus"),
        ({"gpu_hours": 100, "gpu": "h100", "n_gpus": 8.0}, "n_gpus"),
        # physically meaningful, normal, finite numbers
        ({"flops": 1e-300}, "flops"),
        ({"flops": 5e-324, "inference_tokens": 1}, "flops"),
        ({"flops": 1e21, "inference_tokens": 1e300}, "inference_tokens"),
        ({"flops": 1e21, "unique_tokens": 5e-324}, "unique_tokens"),
        ({"gpu_hours": 1e-9, "gpu": "h100"}, "gpu_hours"),
        # versions in ASCII digits only; NUL characters nowhere
        ({"flops": 1e21, "law": "epoch-2024@\u00b2"}, "law"),
        ({"flops": 1e21, "law": "epoch-2024@"}, "law"),
        ({"flops": 1e21, "law": "epoch-2024@\u0661"}, "law"),
        ({"flops": 1e21, "gpu": "h100\u0000"}, "gpu"),
        # bounded shape search
        ({"flops": 1e21, "constraints": {"head_dim": 1, "kv_group": 1}}, "max_width"),
        ({"flops": 1e21, "constraints": {"max_width": 1048576, "max_depth": 4096}}, "max_width"),
        ({"flops": 1e21, "constraints": {"aspect_ratio": 1e-300}}, "aspect_ratio"),
    ],
)
def test_allocate_bad_input_is_422_naming_the_field(
    query_client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    loc = loc_of(query_client.post("/v1/allocate", json=body))
    assert loc[0] == "body"
    assert field in loc, loc


def test_predict(query_client: httpx.Client) -> None:
    out = query_client.post("/v1/predict", json={"params": 7e10, "tokens": 1.4e12}).json()
    assert out["loss"] == pytest.approx(1.9744, abs=0.01)
    wd = {"law": "gemstones-2025", "width": 1024, "depth": 28, "tokens": 3.5e11}
    out = query_client.post("/v1/predict", json=wd).json()
    assert 2.0 < out["loss"] < 4.0
    assert "tokens" in loc_of(query_client.post("/v1/predict", json={"params": 1e9}))


def test_predict_names_the_missing_width(query_client: httpx.Client) -> None:
    wd = {"law": "gemstones-2025", "width": None, "depth": 28, "tokens": 3.5e11}
    assert "width" in loc_of(query_client.post("/v1/predict", json=wd))


def test_frontier(query_client: httpx.Client) -> None:
    body = {"flops_min": 1e19, "flops_max": 1e23, "points": 9}
    out = query_client.post("/v1/frontier", json=body).json()
    assert out["count"] == 9
    params = [p["params"] for p in out["points"]]
    assert params == sorted(params)
    listed = query_client.post("/v1/frontier", json={"flops": [1e20, 1e21]}).json()
    assert [p["flops"] for p in listed["points"]] == [1e20, 1e21]
    assert "flops_min" in loc_of(
        query_client.post("/v1/frontier", json={"flops_min": 1e22, "flops_max": 1e20})
    )
    assert "flops" in loc_of(query_client.post("/v1/frontier", json={"flops": [1e21] * 1001}))


def test_laws_catalogue_and_one_law(query_client: httpx.Client) -> None:
    catalogue = query_client.get("/v1/laws").json()
    assert catalogue["count"] == len(BUILTIN_LAWS)
    assert {law["id"] for law in catalogue["data"]} == set(BUILTIN_LAWS)
    law = query_client.get("/v1/laws/epoch-2024").json()
    assert law["constants"] == dict(builtin("epoch-2024").constants)
    assert law["n_definition"] == "total" and law["c_definition"] == "6ND"
    assert law["builtin"] is True and law["fit"] is None
    assert law["domain"]["flops"] == list(builtin("epoch-2024").domain.flops or ())
    assert query_client.get("/v1/laws/epoch-2024@1").json()["id"] == "epoch-2024"
    assert query_client.get("/v1/laws/nope").status_code == 404
    assert query_client.get("/v1/laws/epoch-2024@9").status_code == 404


@pytest.mark.parametrize("law_id", ["epoch-2024", "gemstones-2025", "deepseek-2024", "kaplan-2020"])
def test_plot_is_a_png(query_client: httpx.Client, law_id: str) -> None:
    r = query_client.get(f"/v1/laws/{law_id}/plot.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n") and len(r.content) > 10_000


def test_healthz_lists_loaded_laws(query_client: httpx.Client) -> None:
    out = query_client.get("/healthz").json()
    assert out["status"] == "ok"
    assert out["laws"]["epoch-2024"] == 1


def test_unknown_job_and_route_are_404(query_client: httpx.Client) -> None:
    assert query_client.get("/v1/jobs/0123456789abcdef").status_code == 404
    assert query_client.get("/v1/jobs/" + "x" * 100).status_code == 404
    assert query_client.get("/v1/nothing-here").status_code == 404


def test_openapi_documents_every_endpoint(query_client: httpx.Client) -> None:
    paths = set(query_client.get("/openapi.json").json()["paths"])
    assert {
        "/v1/allocate",
        "/v1/predict",
        "/v1/frontier",
        "/v1/laws",
        "/v1/laws/{law_id}",
        "/v1/laws/{law_id}/plot.png",
        "/v1/runs",
        "/v1/fits",
        "/v1/jobs/{job_id}",
        "/v1/calibrations",
        "/healthz",
    } <= paths


def test_answer_cache_is_bounded_in_bytes() -> None:
    from flopwise.service.answers import AnswerCache

    cache = AnswerCache(max_bytes=100)
    for i in range(12):
        cache.put(("allocate", "law", 1, str(i)), b"x" * 10)
    assert cache.get(("allocate", "law", 1, "0")) is None  # least recently used went first
    assert cache.get(("allocate", "law", 1, "11")) == b"x" * 10
    cache.put(("allocate", "law", 1, "big"), b"y" * 95)
    assert cache.get(("allocate", "law", 1, "11")) is None  # evicted to fit the byte budget
    assert cache.get(("allocate", "law", 1, "big")) == b"y" * 95
    cache.put(("allocate", "law", 1, "huge"), b"z" * 101)  # larger than the cache: not kept
    assert cache.get(("allocate", "law", 1, "huge")) is None
    assert cache.get(("allocate", "law", 1, "big")) == b"y" * 95


def test_repeated_queries_give_identical_answers(query_client: httpx.Client) -> None:
    body = {"dollars": 1e6, "gpu": "h100", "price_per_gpu_hour": 2.5, "law": "epoch-2024"}
    first = query_client.post("/v1/allocate", json=body)
    again = query_client.post("/v1/allocate", json={**body, "law": "epoch-2024@1"})
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
