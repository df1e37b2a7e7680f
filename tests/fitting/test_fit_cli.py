"""``flopwise fit``: the fitting engine from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopwise.fitting.datasets import DATA_DIR
from flopwise.fitting.laws import from_dict
from flopwise.service.cli import run
from tests.pins import BESIROGLU, EPOCH_REPO, PORIAN, PORIAN_REPO, published

EPOCH_HUBER = published(
    {"objective": 1.01827e-3, "alpha": 0.3473, "beta": 0.3672, "E": 1.8172, "A": 477.8, "B": 2144},
    f"{BESIROGLU}: the {EPOCH_REPO} notebook's summed-Huber fit (docs/laws.md §3.1, §11 row 4)",
)
PORIAN_A_N = published(
    0.497, f"{PORIAN}: the RefinedWeb weighted fit, 0.4969, in {PORIAN_REPO} (docs/laws.md §4.1)"
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["fit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_constants_under_usual_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--dataset", "epoch-chinchilla", "--json", "--no-extrapolation")
    assert code == 0
    data = json.loads(out)
    assert data["success"] is True
    assert data["objective"] == pytest.approx(EPOCH_HUBER["objective"], rel=1e-5)
    for name in ("alpha", "beta", "E"):
        assert data[name] == pytest.approx(EPOCH_HUBER[name], rel=1e-3), name
    for name in ("A", "B"):
        assert data[name] == pytest.approx(EPOCH_HUBER[name], rel=5e-3), name


def test_csv_file_with_column_mapping_plot_and_saved_law(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plot, saved = tmp_path / "fit.png", tmp_path / "law.json"
    code, out, _ = _run(
        capsys,
        str(DATA_DIR / "epoch_svg_extracted_data.csv"),
        "--params-col",
        "Model Size",
        "--tokens-col",
        "",
        "--flops-col",
        "Training FLOP",
        "--plot",
        str(plot),
        "--save-law",
        str(saved),
        "--law-id",
        "my-chinchilla",
    )
    assert code == 0, out
    assert "status  ok" in out and "alpha" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    law = from_dict(json.loads(saved.read_text()))
    assert law.id == "my-chinchilla" and 0.3 < law.constants["alpha"] < 0.4


def test_a_saved_law_is_named_after_its_data_and_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # no --law-id: the law was once "fitted", and its answers read "the range fitted was
    # fitted on"; now it is named as the service names a refit, <data>-<form>
    runs, saved = tmp_path / "my-runs.csv", tmp_path / "law.json"
    runs.write_text((DATA_DIR / "epoch_svg_extracted_data.csv").read_text())
    code, out, _ = _run(
        capsys, str(runs), "--params-col", "Model Size", "--tokens-col", "",
        "--flops-col", "Training FLOP", "--no-extrapolation", "--save-law", str(saved),
    )  # fmt: skip
    assert code == 0, out
    law = from_dict(json.loads(saved.read_text()))
    assert law.id == "my-runs-chinchilla"
    code = run(["allocate", "--flops", "1e26", "--law-file", str(saved)])
    out, _ = capsys.readouterr()
    assert code == 0 and "range my-runs-chinchilla was fitted on" in out
    code = run(["fit", "--dataset", "porian-2024", "--method", "approach2", "--json"])
    assert code == 0 and json.loads(capsys.readouterr()[0])["law"]["id"] == "porian-2024-approach2"


def test_isoflop_method_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "--dataset",
        "porian-2024",
        "--method",
        "approach2",
        "--json",
        "--bootstrap",
        "20",
        "--workers",
        "1",
    )
    assert code == 0
    data = json.loads(out)
    assert data["form"] == "power-law" and data["a_N"] == pytest.approx(PORIAN_A_N, abs=0.02)
    assert data["intervals"]["a_N"][0] < data["a_N"] < data["intervals"]["a_N"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "dataset: unknown dataset 'nope'"),
        ([], "give exactly one of FILE or --dataset"),
        (["x.csv", "--dataset", "epoch-chinchilla"], "give exactly one of FILE or --dataset"),
        (["--dataset", "epoch-chinchilla", "--delta", "0"], "--delta: expected a positive number"),
        (["--dataset", "epoch-chinchilla", "--form", "cubic"], "Invalid value for '--form'"),
        (
            ["--dataset", "epoch-chinchilla", "--form", "width-depth"],
            "width: this fit needs a width",
        ),
        (
            ["--dataset", "epoch-chinchilla", "--bootstrap", "1"],
            "bootstrap: one draw gives no interval",
        ),
        (["missing.csv"], "missing.csv: no such file"),
        (["--dataset", "epoch-chinchilla", "--tie", "beta=gamma"], "tie: 'gamma' is not a"),
        (["--dataset", "epoch-chinchilla", "--fix", "E"], "fix: expected NAME=VALUE"),
        (["--dataset", "epoch-chinchilla", "--fix", "E=x"], "fix: E: expected a float"),
        (["--dataset", "epoch-chinchilla", "--objective", "l7"], "Invalid value for '--objective'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flopwise fit: error:")
    assert message in lines[0]
    assert "Traceback" not in err


def test_tied_fit_with_objective(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "--dataset",
        "epoch-chinchilla",
        "--tie",
        "beta=alpha",
        "--fix",
        "E=1.8",
        "--objective",
        "mse",
        "--json",
        "--no-extrapolation",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["alpha"] == data["beta"] and data["E"] == pytest.approx(1.8)


def test_unique_tokens_column_needs_a_form_that_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss,unique\n1e8,2e9,3.1,1e9\n2e8,4e9,3.0,1e9\n")
    code, _, err = _run(capsys, str(path), "--unique-tokens-col", "unique")
    assert code == 2
    assert "--unique-tokens-col: the chinchilla form does not read unique tokens" in err


def test_bad_values_in_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,inf\n")
    code, _, err = _run(capsys, str(path))
    assert code == 2 and "row 1: loss must be positive and finite" in err
    path.write_text("n,d,L\n1e8,2e9,3.1\n")
    code, _, err = _run(capsys, str(path))
    assert code == 2 and "no column 'params'" in err
