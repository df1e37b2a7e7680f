"""``POST /v1/hyperparams/fit`` and ``POST /v1/critical-batch/fit``: the sweep fits over
HTTP, with runs inline; the same JSON as the CLI's ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from flopwise.fitting.fit.critical_batch import zhang_columns
from tests.fitting.test_fit_hyper import sweep
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
