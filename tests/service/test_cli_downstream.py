"""``flopwise fit-downstream`` and the answers of a law with a link, as a user runs them
(docs/laws.md §20): the contract scripts rely on, and one-line errors that name the flag."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.downstream_samples import metric_runs
from tests.service.test_cli_allocate import flopwise


@pytest.fixture(scope="module")
def runs_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("downstream") / "tasks.csv"
    rows = metric_runs()
    names = ["run", "params", "tokens", "loss", *rows[0]["metrics"]]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r[k] for k in names[:4]} | r["metrics"])
    return path


def test_fit_downstream_saves_a_law_that_predicts_the_metric(
    runs_csv: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "task.json"
    done = flopwise("fit-downstream", str(runs_csv), "--metric-col", "task_acc", "--via-col",
                    "task_bpb", "--run-col", "run", "--bootstrap", "10", "--workers", "1",
                    "--save-law", str(saved), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["success"] and out["link"] == "sigmoid" and out["fitted_step1"]
    assert {"a", "x0", "k", "b"} <= set(out) and out["law"] == {
        "id": "tasks-task_bpb",
        "version": 1,
    }
    assert out["diagnostics"]["step2"]["bootstrap"]["draws"] >= 8
    assert "mean_abs_error" in out["diagnostics"]["extrapolation"]
    law = json.loads(saved.read_text())
    assert law["id"] == "tasks-task_bpb" and set(law["downstream"]) == {"task_acc"}
    answer = flopwise("predict", "--law-file", str(saved), "--params", "4e8", "--tokens", "8e9",
                      "--json")  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    task = json.loads(answer.stdout)["downstream"]["task_acc"]
    assert task["via"]["metric"] == "task_bpb" and len(task["interval"]) == 2
    assert task["via"]["value"] == pytest.approx(json.loads(answer.stdout)["loss"])
    table = flopwise("predict", "--law-file", str(saved), "--params", "4e8", "--tokens", "8e9")
    assert "task_acc: " in table.stdout and "via task_bpb" in table.stdout
    plan = flopwise("allocate", "--law-file", str(saved), "--target-metric", "task_acc",
                    "--target-value", "0.8", "--json")  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    target = json.loads(plan.stdout)["target"]
    assert target["predicted"] == pytest.approx(0.8, abs=0.01)
    assert json.loads(plan.stdout)["flops"] == pytest.approx(target["flops"])


def test_a_link_added_to_a_loss_law(runs_csv: Path, tmp_path: Path) -> None:
    loss_law = tmp_path / "loss.json"
    fitted = flopwise("fit", str(runs_csv), "--run-col", "run", "--save-law", str(loss_law))
    assert fitted.returncode == 0, fitted.stderr
    both = tmp_path / "both.json"
    done = flopwise("fit-downstream", str(runs_csv), "--metric-col", "score_acc", "--via-col",
                    "loss", "--run-col", "run", "--link", "exponential", "--loss-law-file",
                    str(loss_law), "--save-law", str(both), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fitted_step1"] is False
    law = json.loads(both.read_text())
    assert law["id"] == json.loads(loss_law.read_text())["id"]
    assert law["downstream"]["score_acc"]["link"] == "exponential"
    assert law["downstream"]["score_acc"]["step1"] is None


def test_the_bundled_ladder(tmp_path: Path) -> None:
    saved = tmp_path / "mmlu.json"
    done = flopwise("fit-downstream", "--dataset", "olmo-ladder", "--metric-col", "mmlu_acc",
                    "--via-col", "mmlu_bpb", "--save-law", str(saved))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(N, D) -> mmlu_bpb -> mmlu_acc" in done.stdout


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--metric-col", "nope", "--via-col", "task_bpb"], "nope"),
        (["--metric-col", "task_acc", "--via-col", "task_bpb", "--link", "cubic"], "--link"),
        (["--metric-col", "task_acc", "--via-col", "task_bpb", "--bootstrap", "1"], "--bootstrap"),
        (["--metric-col", "task_acc", "--via-col", "task_bpb", "--level", "2"], "--level"),
        (
            ["--metric-col", "task_acc", "--via-col", "task_bpb", "--loss-law-file", "no.json"],
            "--loss-law-file",
        ),
        (["--metric-col", "task_acc"], "--via-col"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    runs_csv: Path, tmp_path: Path, args: list[str], flag: str
) -> None:
    done = flopwise("fit-downstream", str(runs_csv), *args, "--save-law", str(tmp_path / "x.json"))
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], done.stderr
    assert not (tmp_path / "x.json").exists()


def test_allocate_target_flags_come_in_pairs() -> None:
    done = flopwise("allocate", "--target-metric", "mmlu_acc")
    assert done.returncode == 2 and "--target-value" in done.stderr
    done = flopwise("allocate", "--target-metric", "mmlu_acc", "--target-value", "0.5")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "flopwise allocate: error: --target-metric: epoch-2024 has no link to 'mmlu_acc' "
        "(links: none)"
    ]
