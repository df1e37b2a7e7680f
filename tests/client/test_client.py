"""``flopwise.client`` against a live ``flopwise serve``: the queries answer with the
offline library's own types and numbers, the catalogues read as laws and throughput
models, refusals are typed, and the asynchronous client does the same."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from flopwise.client import AsyncClient, Client, RequestRejected
from flopwise.client.errors import NotFound
from flopwise.client.requests import OverspendArgs
from flopwise.fitting.allocation import Allocation, Frontier, allocate, frontier
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import Prediction, predict
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.catalogue import builtin_throughputs
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.overspend import Overspend, overspend
from tests.e2e.conftest import ServerProcess

pytestmark = pytest.mark.slow
FIG7 = {"width": 256, "depth": 80, "target_loss": 3.2, "n_gpus": 128}
SHAPE_256X80: OverspendArgs = {"law": "gemstones-2025", "throughput": "gemstones-mi250x", **FIG7}  # type: ignore[typeddict-item]
"""Gemstones Fig. 7's deep, narrow shape: 4.1x the FLOPs, 10.1x the GPU-hours at loss 3.2."""


@pytest.fixture(scope="module")
def server(flopwise_server_module: Callable[..., ServerProcess]) -> ServerProcess:
    return flopwise_server_module(workers=0)


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.url) as c:
        yield c


def _same(answer: Allocation, offline: Allocation) -> None:
    """Every field equal, but DeepSeek's ``compute``, which the API does not send."""
    served, local = answer.to_dict(), offline.to_dict()
    assert math.isnan(served["hyperparameters"].pop("compute"))
    local["hyperparameters"].pop("compute")
    assert {k: served[k] for k in local} == local


def test_code_written_for_the_library_runs_against_the_client(client: Client) -> None:
    law = BUILTIN_LAWS["epoch-2024"]
    answer = client.allocate(5.76e23, law="epoch-2024")
    assert isinstance(answer, Allocation)
    _same(answer, allocate(law, 5.76e23))
    assert answer.cost is None and answer.time_optimal is None

    limits = ShapeConstraints(max_depth=48, head_dim=64)
    limited = client.allocate(1e22, law="epoch-2024", constraints=limits, level=0.8)
    _same(limited, allocate(law, 1e22, constraints=limits, level=0.8))

    point = client.predict(params=1e9, tokens=2e10, level=0.8)
    assert isinstance(point, Prediction)
    assert point == predict(law, params=1e9, tokens=2e10, level=0.8)

    points = [
        {"params": 1e9, "tokens": 2e10},
        {"law": "gemstones-2025", "width": 1024, "depth": 28, "tokens": 3.5e11},
    ]
    many = client.predict_many(points)  # type: ignore[arg-type]
    assert many[0] == predict(law, params=1e9, tokens=2e10)
    assert many[1] == predict(BUILTIN_LAWS["gemstones-2025"], width=1024, depth=28, tokens=3.5e11)


def test_frontier_reads_as_the_library_frontier(client: Client) -> None:
    for law_id in ("epoch-2024", "deepseek-2024"):  # deepseek: N* is the model scale M
        path = client.frontier(law=law_id, flops_min=1e19, flops_max=1e23, points=5)
        assert isinstance(path, Frontier)
        local = frontier(BUILTIN_LAWS[law_id], path.flops)
        for name in ("params", "tokens", "width", "depth", "shape_params", "shape_flops_per_token"):
            np.testing.assert_allclose(getattr(path, name), getattr(local, name), rtol=1e-12)
        assert path.loss_interval.shape == (5, 2) and path.level == 0.9
    listed = client.frontier(law="epoch-2024", flops=[1e20, 1e21])
    assert list(listed.flops) == [1e20, 1e21]
    assert listed.loss is not None and np.all(listed.loss_interval[:, 0] < listed.loss)


def test_gpu_hours_with_a_throughput_model_and_overspend(client: Client) -> None:
    answer = client.allocate(
        gpu_hours=1e4,
        n_gpus=256,
        law="gemstones-2025",
        throughput="gemstones-mi250x",
        price_per_gpu_hour=2.0,
    )
    assert str(answer.throughput) == "gemstones-mi250x@1" and answer.n_gpus == 256
    assert answer.time_optimal is not None and answer.flop_optimal is not None
    assert answer.shape == answer.time_optimal.shape
    assert answer.cost is not None and answer.cost.dollars == pytest.approx(2e4)

    spent = client.overspend(**SHAPE_256X80)
    model = builtin_throughputs()["gemstones-mi250x"]
    local = overspend(BUILTIN_LAWS["gemstones-2025"], model, **FIG7)  # type: ignore[arg-type]
    assert isinstance(spent, Overspend)
    assert spent.flops_overspend == pytest.approx(local.flops_overspend, rel=1e-12)
    assert spent.shape == local.shape and spent.time_optimal == local.time_optimal


def test_catalogues_read_as_laws_and_throughput_models(client: Client) -> None:
    assert client.healthz().laws["epoch-2024"] == 1
    summaries = client.laws.list()
    assert {s.id for s in summaries} >= set(BUILTIN_LAWS)
    assert all(s.builtin for s in summaries if s.id in BUILTIN_LAWS)
    for law_id in ("epoch-2024", "chinchilla-2022-approach1", "gemstones-2025"):
        law = client.laws.get(f"{law_id}@1")
        assert isinstance(law, Law) and law is BUILTIN_LAWS[law_id]  # with draws and tables
    assert client.laws.plot("epoch-2024").startswith(b"\x89PNG")

    models = client.throughput.list()
    assert all(isinstance(m, ThroughputModel) for m in models)
    assert {m.id for m in models} == set(builtin_throughputs())
    mi250x = client.throughput.get("gemstones-mi250x")
    assert mi250x.constants() == builtin_throughputs()["gemstones-mi250x"].constants()


def test_refusals_are_typed_and_name_the_field(client: Client) -> None:
    with pytest.raises(RequestRejected) as bad:
        client.allocate(-5)
    assert bad.value.status == 422 and bad.value.fields == ("flops",)
    with pytest.raises(RequestRejected) as nested:
        client.allocate(1e21, constraints={"min_width": 4096, "max_width": 64})
    assert nested.value.fields == ("constraints.min_width",)
    with pytest.raises(RequestRejected) as listed:
        client.predict_many([{"params": 1e9, "tokens": 2e10}, {"params": 1e9}])  # type: ignore[typeddict-item]
    assert listed.value.fields == ("1.tokens",)
    with pytest.raises(NotFound) as missing:
        client.laws.get("no-such-law")
    assert missing.value.status == 404 and "no-such-law" in str(missing.value)


def test_the_async_client_answers_the_same(server: ServerProcess) -> None:
    async def ask() -> None:
        async with AsyncClient(server.url) as c:
            budgets = (1e21, 1e22, 1e23)
            plans = await asyncio.gather(*(c.allocate(b, law="epoch-2024") for b in budgets))
            for budget, plan in zip(budgets, plans, strict=True):
                _same(plan, allocate(BUILTIN_LAWS["epoch-2024"], budget))
            assert await c.predict(params=1e9, tokens=2e10) == predict(
                BUILTIN_LAWS["epoch-2024"], params=1e9, tokens=2e10
            )
            assert len(await c.predict_many([{"params": 1e9, "tokens": 2e10}] * 3)) == 3
            path = await c.frontier(law="epoch-2024", flops=[1e20, 1e21])
            assert path.params[0] < path.params[1]
            assert (await c.healthz()).status == "ok"
            assert len(await c.laws.list()) >= len(BUILTIN_LAWS)
            assert await c.laws.get("epoch-2024") is BUILTIN_LAWS["epoch-2024"]
            assert (await c.laws.plot("epoch-2024")).startswith(b"\x89PNG")
            assert (await c.throughput.get("h100-default")).gpu == "h100"
            assert len(await c.throughput.list()) == len(builtin_throughputs())
            spent = await c.overspend(**SHAPE_256X80)
            assert spent.gpu_hours_overspend > 1
            with pytest.raises(RequestRejected) as bad:
                await c.allocate(-5)
            assert bad.value.fields == ("flops",)

    asyncio.run(ask())
