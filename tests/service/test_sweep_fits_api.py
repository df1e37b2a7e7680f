"""``POST /v1/hyperparams/fit`` and ``POST /v1/critical-batch/fit``: the sweep fits over
HTTP, with runs inline; the same JSON as the CLI's ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from flopwise.fitting.fit.critical_batch import zhang_columns
from tests.fitting.test_fit_hyper import sweep
from tests.hyper_samples import sweep_records
from tests.service.test_cli_allocate import flopwise


def _zhang_rows() -> list[dict[str, object]]:
    t = zhang_columns()
    return [
        {"batch": float(b), "steps": float(s), "group": str(g), "sequence_length": float(q)}
        for b, s, g, q in zip(
            t["batch_size_sequences"],
            t["steps_to_target"],
            t["model"],
            t["sequence_length"],
            strict=True,
        )
    ]


def test_critical_batch_fit_matches_the_cli(query_client: httpx.Client, tmp_path: Path) -> None:
    r = query_client.post("/v1/critical-batch/fit", json={"rows": _zhang_rows(), "bootstrap": 50})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [g["group"] for g in out["groups"]] == ["85M", "151M", "302M", "604M", "1.2B"]
    assert out["groups"][0]["b_noise"] == pytest.approx(2235, rel=0.01)
    csv = tmp_path / "rows.csv"
    csv.write_text(
        "batch,steps,group,seq\n"
        + "".join(
            f"{x['batch']},{x['steps']},{x['group']},{x['sequence_length']}\n"
            for x in _zhang_rows()
        )
    )
    cli = flopwise(
        "fit-critical-batch",
        str(csv),
        "--batch-col",
        "batch",
        "--steps-col",
        "steps",
        "--group-col",
        "group",
        "--sequence-length-col",
        "seq",
        "--bootstrap",
        "50",
        "--json",
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == out


def test_hyperparams_fit(query_client: httpx.Client) -> None:
    s = sweep(noise=0.002)
    runs = [
        {"params": n, "tokens": d, "learning_rate": lr, "batch_size": b, "loss": y}
        for n, d, lr, b, y in zip(
            *(s[k].tolist() for k in ("params", "tokens", "lr", "batch", "loss")), strict=True
        )
    ]
    r = query_client.post("/v1/hyperparams/fit", json={"runs": runs, "bootstrap": 50})
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["optima"]) == 12 and out["law"]["form"] == "power-law"
    assert out["law"]["constants"]["lr_n"] == pytest.approx(-0.5, abs=0.05)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/hyperparams/fit", {"runs": []}, "runs"),
        (
            "/v1/hyperparams/fit",
            {
                "runs": [
                    {
                        "params": 1e7,
                        "tokens": 1e9,
                        "learning_rate": 1e-3,
                        "batch_size": 1e5,
                        "loss": 3.0,
                    }
                ]
                * 3
            },
            "runs",
        ),
        ("/v1/critical-batch/fit", {"rows": [{"batch": 1, "steps": 10}] * 3}, "rows"),
        ("/v1/critical-batch/fit", {"rows": [{"batch": -1, "steps": 10}] * 3}, "batch"),
    ],
)
def test_bad_sweeps_are_422_naming_the_field(
    query_client: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    r = query_client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"][0]["loc"]


def test_hyperparams_fit_from_a_stored_dataset(client: httpx.Client) -> None:
    s = sweep(noise=0.002, sizes=(1e7, 3e7, 1e8))
    records = sweep_records(s, dataset="lr-sweep", evals=1)
    posted = client.post("/v1/runs", json={"runs": records, "refit": False})
    assert posted.status_code == 200, posted.text
    stored = client.post("/v1/hyperparams/fit", json={"dataset": "lr-sweep", "bootstrap": 50})
    assert stored.status_code == 200, stored.text
    runs = [
        {"params": n, "tokens": d, "learning_rate": lr, "batch_size": b, "loss": y}
        for n, d, lr, b, y in zip(
            *(s[k].tolist() for k in ("params", "tokens", "lr", "batch", "loss")), strict=True
        )
    ]
    inline = client.post("/v1/hyperparams/fit",
                         json={"runs": runs, "bootstrap": 50, "n_definition": "total"})  # fmt: skip
    assert inline.status_code == 200, inline.text
    out, want = stored.json(), inline.json()
    assert len(out["optima"]) == 9 and out["law"]["n_definition"] == "total"
    assert out["law"]["sequence_length"] == 512  # the runs' sequence_length tag
    assert out["law"]["constants"] == pytest.approx(want["law"]["constants"])
    assert "lr-sweep" in out["law"]["source"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "no-such-dataset"}, "dataset"),
        ({"dataset": "no-batches"}, "dataset"),
        ({"dataset": "one-point-each"}, "dataset"),
        ({"dataset": "no-batches", "runs": [{"params": 1, "tokens": 1, "learning_rate": 1,
                                             "batch_size": 1, "loss": 1}] * 3}, "runs"),
        ({"dataset": "no-batches", "batch_in_sequences": True}, "batch_in_sequences"),
        ({}, "dataset"),
    ],
)  # fmt: skip
def test_a_dataset_without_a_usable_sweep_is_422_naming_the_field(
    client: httpx.Client, body: dict[str, object], field: str
) -> None:
    records = [{**r, "tags": {}} for r in sweep_records(sweep(sizes=(1e7,)), "no-batches", 1)]
    plain = sweep_records(sweep(sizes=(1e7, 3e7, 1e8)), "one-point-each", 1)[::49]
    assert len({(r["params"], r["tokens"]) for r in plain}) == len(plain) == 9  # no sweep
    for runs in (records[:20], plain):
        assert client.post("/v1/runs", json={"runs": runs, "refit": False}).status_code == 200
    r = client.post("/v1/hyperparams/fit", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"][0]["loc"], r.text
