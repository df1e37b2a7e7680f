"""``flopwise fit-curve``, ``predict --schedule [--curve]`` and ``forecast`` as a user runs
them (docs/laws.md §21): the fitted law answers what ``fitting`` answers, and bad input is
one line naming the flag with exit status 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from flopwise.fitting.forecast import forecast
from flopwise.fitting.laws import from_dict
from flopwise.fitting.prediction import predict
from tests.curve_samples import curve_records, schedule
from tests.service.test_cli_allocate import flopwise

RUN = "2e+08-40x-cosine"
COSINE = schedule(2e8, 8e9, "cosine")
SCHEDULE_FLAGS = (
    "--schedule", "cosine", "--peak-lr", repr(COSINE.peak_lr), "--warmup-tokens", "2e8",
    "--final-lr-fraction", "0.1", "--total-tokens", "8e9",
)  # fmt: skip


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A curves CSV (run, params, tokens, lr, loss) and the law fit-curve saved from it."""
    folder = tmp_path_factory.mktemp("curves")
    data, law = folder / "curves.csv", folder / "law.json"
    with open(data, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "n", "seen", "lr", "val"])
        for r in curve_records(noise=0.001, seed=5):
            out.writerow([r["run"], r["params"], r["tokens"], r["lr"], r["loss"]])
    result = flopwise(
        "fit-curve", str(data), "--run-col", "name", "--params-col", "n", "--tokens-col",
        "seen", "--lr-col", "lr", "--loss-col", "val", "--form", "multi-power",
        "--save-law", str(law), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["success"] and report["form"] == "multi-power" and report["n_runs"] > 150
    assert report["extrapolation"]["final"]["mean_abs_relative_error"] < 0.01
    return data, law


def test_predict_under_a_schedule_is_the_law_s_answer(fitted: tuple[Path, Path]) -> None:
    _, law_file = fitted
    result = flopwise(
        "predict", "--law-file", str(law_file), "--params", "2e8", "--tokens", "8e9",
        *SCHEDULE_FLAGS, "--curve", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    law = from_dict(json.loads(law_file.read_text()))
    expected = predict(law, params=2e8, tokens=8e9, schedule=COSINE)
    assert answer["loss"] == pytest.approx(expected.loss)
    assert answer["loss_interval"] == pytest.approx(list(expected.loss_interval or ()))
    curve = answer["curve"]
    assert len(curve) == 64 and curve[-1]["tokens"] == pytest.approx(8e9)
    assert curve[-1]["loss"] == pytest.approx(expected.loss)


def test_forecast_from_the_first_half_of_a_run(fitted: tuple[Path, Path]) -> None:
    data, law_file = fitted
    result = flopwise(
        "forecast", str(data), "--run", RUN, "--run-col", "name", "--tokens-col", "seen",
        "--loss-col", "val", "--law-file", str(law_file), "--params", "2e8",
        *SCHEDULE_FLAGS, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    rows = [r for r in curve_records(noise=0.001, seed=5) if r["run"] == RUN]
    law = from_dict(json.loads(law_file.read_text()))
    expected = forecast(
        law, params=2e8, schedule=COSINE, tokens=[r["tokens"] for r in rows],
        loss=[r["loss"] for r in rows],
    )  # fmt: skip
    assert answer["loss"] == pytest.approx(expected.loss)
    assert answer["tracking"] is True and answer["observed"] == len(rows)
    assert answer["run"] == RUN
    assert answer["loss_interval"][0] < rows[-1]["loss"] < answer["loss_interval"][1]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("predict", "--params", "2e8", "--tokens", "8e9", "--schedule", "wsd",
          "--peak-lr", "1e-3"), "--decay-tokens"),
        (("predict", "--params", "2e8", "--tokens", "8e9", "--schedule", "cosine",
          "--peak-lr", "-1"), "--peak-lr"),
        (("predict", "--params", "2e8", "--tokens", "8e9"), "--schedule"),
        (("predict", "--params", "2e8", "--tokens", "8e9", "--schedule", "cosine",
          "--peak-lr", "1e-3", "--final-lr-fraction", "2"), "--final-lr-fraction"),
        (("forecast", "--params", "2e8", "--schedule", "cosine", "--peak-lr", "1e-3"),
         "--total-tokens"),
        (("forecast", "CURVES", "--run-col", "name", "--params", "2e8", *SCHEDULE_FLAGS),
         "--run"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_the_flag(
    fitted: tuple[Path, Path], args: tuple[str, ...], flag: str
) -> None:
    data, law_file = fitted
    argv = [str(data) if a == "CURVES" else a for a in args]
    result = flopwise(*argv, "--law-file", str(law_file))
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_fit_curve_needs_lr_or_a_schedule(tmp_path: Path) -> None:
    path = tmp_path / "no_lr.csv"
    path.write_text("run,params,tokens,loss\na,1e8,1e9,3.2\na,1e8,2e9,3.0\nb,2e8,1e9,3.1\n")
    result = flopwise("fit-curve", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--lr-col" in result.stderr
