"""``POST /v1/hyperparams``, ``/v1/allocate``'s ``hyperparameters`` and ``flopwise
hyperparams``: one answer path, the law named, bad input a 422 / exit 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from flopwise.fitting.hyperlaws import BUILTIN_HYPER_LAWS, hyper_to_dict
from tests.hyper_samples import power_law_hyper
from tests.service.test_cli_allocate import flopwise


def test_hyperparams_names_its_law_and_compares_them_all(query_client: httpx.Client) -> None:
    r = query_client.post("/v1/hyperparams", json={"params": 4.4e8, "tokens": 1e10})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["law"] == "step-law-2025"
    assert out["learning_rate"] == pytest.approx(1.446e-3, rel=1e-3)
    assert out["batch_size_tokens"] == pytest.approx(2.975e5, rel=1e-3)
    assert out["batch_size_sequences"] == pytest.approx(out["batch_size_tokens"] / 2048)
    assert next(a["law"] for a in out["comparison"]) == "step-law-2025"
    assert {a["law"] for a in out["comparison"]} == set(BUILTIN_HYPER_LAWS)
    assert any("disagree by more than 2x" in w for w in out["warnings"])
    assert "compute" not in out


def test_hyperparams_olmo_at_the_ladder_length(query_client: httpx.Client) -> None:
    body = {"params": 190354176, "tokens": 3.8e9, "law": "olmo-ladder-2024"}
    out = query_client.post("/v1/hyperparams", json=body).json()
    assert out["learning_rate"] == pytest.approx(9.727e-4, rel=1e-3)
    assert out["sequence_length"] == 4096


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": -1, "tokens": 1e9}, "params"),
        ({"params": 1e9}, "tokens"),
        ({"params": 1e9, "tokens": 1e9, "law": "nope"}, "law"),
        ({"params": 1e9, "tokens": 1e9, "model_scale": 6e9}, "model_scale"),
        ({"params": 1e9, "tokens": 1e9, "sequence_length": 0}, "sequence_length"),
    ],
)
def test_hyperparams_bad_input_is_422_naming_the_field(
    query_client: httpx.Client, body: dict[str, object], field: str
) -> None:
    r = query_client.post("/v1/hyperparams", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field


def test_allocate_takes_a_hyperparameter_law(query_client: httpx.Client) -> None:
    default = query_client.post("/v1/allocate", json={"flops": 1e21}).json()
    assert default["hyperparameters"]["law"] == "deepseek-2024"
    r = query_client.post("/v1/allocate", json={"flops": 1e21, "hyperparameters": "step-law-2025"})
    assert r.status_code == 200, r.text
    hyper = r.json()["hyperparameters"]
    assert hyper["law"] == "step-law-2025" and hyper["n_definition"] == "non_embedding"
    assert any("disagree by more than 2x" in c for c in hyper["caveats"])
    bad = query_client.post("/v1/allocate", json={"flops": 1e21, "hyperparameters": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "hyperparameters"


def test_cli_prints_the_api_answer(query_client: httpx.Client) -> None:
    body = {"params": 1e9, "tokens": 2e10, "law": "porian-2024-tuned"}
    api = query_client.post("/v1/hyperparams", json=body)
    cli = flopwise(
        "hyperparams", "--params", "1e9", "--tokens", "2e10", "--law", "porian-2024-tuned", "--json"
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == api.json()
    keys = {"learning_rate", "batch_size_tokens", "law"}
    assert keys <= set(json.loads(cli.stdout))


def test_cli_table_and_bad_flags() -> None:
    table = flopwise("hyperparams", "--params", "4.4e8", "--tokens", "1e10")
    assert table.returncode == 0, table.stderr
    assert "step-law-2025: learning rate 0.001446" in table.stdout
    bad = flopwise("hyperparams", "--params", "-3", "--tokens", "1e10")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "--params" in bad.stderr
    wrong = flopwise("hyperparams", "--params", "1e9", "--tokens", "1e9", "--model-scale", "6e9")
    assert wrong.returncode == 2 and "--model-scale" in wrong.stderr


def test_cli_reads_a_fitted_law(tmp_path: Path) -> None:
    law = power_law_hyper()
    path = tmp_path / "law.json"
    path.write_text(json.dumps(hyper_to_dict(law)))
    out = flopwise(
        "hyperparams", "--params", "1e8", "--tokens", "1e10", "--law-file", str(path), "--json"
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["law"] == "my-sweep"
    assert answer["learning_rate"] == pytest.approx(1e-4)
    assert answer["batch_size_tokens"] == pytest.approx(1e5)
    path.write_text("{}")
    bad = flopwise("hyperparams", "--params", "1e8", "--tokens", "1e10", "--law-file", str(path))
    assert bad.returncode == 2 and "--law-file" in bad.stderr
