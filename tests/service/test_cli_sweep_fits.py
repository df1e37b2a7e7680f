"""``flopwise fit-critical-batch`` and ``flopwise fit-hyperparams`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopwise.fitting.critical_batch import critical_law_from_dict
from flopwise.fitting.fit.critical_batch import ZHANG_FILE
from tests.fitting.test_fit_hyper import batch_star, lr_star, sweep
from tests.hyper_samples import sweep_records
from tests.service.test_cli_allocate import flopwise

ZHANG = [
    str(ZHANG_FILE),
    "--batch-col",
    "batch_size_sequences",
    "--steps-col",
    "steps_to_target",
    "--group-col",
    "model",
    "--sequence-length-col",
    "sequence_length",
    "--bootstrap",
    "100",
]


def test_fit_critical_batch_json_rows(tmp_path: Path) -> None:
    saved = tmp_path / "cb.json"
    done = flopwise("fit-critical-batch", *ZHANG, "--json", "--save-law", str(saved))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    rows = out["groups"]
    assert [r["group"] for r in rows] == ["85M", "151M", "302M", "604M", "1.2B"]
    for r in rows:
        assert {"group", "b_noise", "s_min", "b_noise_interval", "s_min_interval"} <= set(r)
    assert rows[0]["b_noise"] == pytest.approx(2235, rel=0.01)
    assert out["data_law"]["a"] == pytest.approx(0.608, abs=0.005)
    law = critical_law_from_dict(json.loads(saved.read_text()))
    assert law.k == pytest.approx(out["data_law"]["k"])


def test_fit_critical_batch_table() -> None:
    done = flopwise("fit-critical-batch", *ZHANG)
    assert done.returncode == 0, done.stderr
    assert "85M" in done.stdout and "B_noise = 3.096 x (E_min tokens)^0.6082" in done.stdout


@pytest.mark.parametrize(
    ("change", "flag"),
    [(("--steps-col", "nope"), "--steps-col"), (("--batch-col", "model"), "--batch-col")],
)
def test_fit_critical_batch_bad_columns(change: tuple[str, str], flag: str) -> None:
    args = list(ZHANG)
    args[args.index(change[0]) + 1] = change[1]
    done = flopwise("fit-critical-batch", *args)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and flag in done.stderr


def _sweep_csv(path: Path) -> Path:
    s = sweep(noise=0.002)
    lines = ["N,D,lr,bs,loss"]
    lines += [
        ",".join(repr(float(v)) for v in row)
        for row in zip(*(s[k] for k in ("params", "tokens", "lr", "batch", "loss")), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_hyperparams_json_and_saved_law(tmp_path: Path) -> None:
    csv = _sweep_csv(tmp_path / "sweep.csv")
    law = tmp_path / "law.json"
    cols = ["--lr-col", "lr", "--batch-col", "bs", "--params-col", "N", "--tokens-col", "D"]
    done = flopwise(
        "fit-hyperparams", str(csv), *cols, "--bootstrap", "100", "--json", "--save-law", str(law)
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["optima"]) == 12 and out["joint"]
    assert out["law"]["constants"]["lr_n"] == pytest.approx(-0.5, abs=0.05)
    answer = flopwise(
        "hyperparams", "--params", "5e7", "--tokens", "3e9", "--law-file", str(law), "--json"
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["law"] == "sweep-hyperparameters"
    missing = flopwise("fit-hyperparams", str(csv), "--lr-col", "lr")
    assert missing.returncode == 2 and "--params-col" in missing.stderr


def test_fit_hyperparams_from_a_runs_file(tmp_path: Path) -> None:
    """The trainer's runs.jsonl: every evaluation of every run, a grid sweep's best runs
    filed again under <dataset>-best; --dataset picks which rows are the sweep."""
    s = sweep(sizes=(1e7, 3e7, 1e8))
    records = sweep_records(s, dataset="grid", evals=2)
    best = [{**r, "dataset": "grid-best"} for r in records[:4]]
    runs = tmp_path / "runs.jsonl"
    runs.write_text("".join(json.dumps(r) + "\n" for r in best + records))
    done = flopwise(
        "fit-hyperparams", str(runs), "--dataset", "grid", "--bootstrap", "50", "--json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["optima"]) == 9 and out["law"]["n_definition"] == "total"
    assert out["law"]["sequence_length"] == 512  # the runs' sequence_length tag
    for o in out["optima"]:  # each run's final point, its schedule's peak LR, its batch
        assert o["learning_rate"] == pytest.approx(lr_star(o["params"], o["tokens"]), rel=1e-6)
        assert o["batch_tokens"] == pytest.approx(batch_star(o["tokens"]), rel=1e-6)
    for args, flag in (
        (["--dataset", "other"], "--dataset"),
        (["--dataset", "grid-best"], "FILE"),  # two runs: fewer than 3 (N, D) optima
        (["--dataset", "grid", "--batch-in-sequences"], "--batch-in-sequences"),
    ):
        bad = flopwise("fit-hyperparams", str(runs), *args)
        assert bad.returncode == 2 and f"error: {flag}:" in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    csv = _sweep_csv(tmp_path / "sweep.csv")
    table_dataset = flopwise("fit-hyperparams", str(csv), "--dataset", "grid")
    assert table_dataset.returncode == 2 and "--dataset" in table_dataset.stderr
