"""A sweep's stored runs to the rows of a hyper-parameter fit (``fit.sweep_runs``): each
run's loss at its planned end, its schedule's peak LR, its batch; the rest named."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.hyper import fit_hyperparams
from flopwise.fitting.fit.sweep_runs import sweep_rows
from tests.fitting.test_fit_hyper import sweep
from tests.hyper_samples import sweep_records


def test_stored_runs_fit_as_the_table_of_their_final_points() -> None:
    s = sweep(sizes=(1e7, 3e7, 1e8))
    rows = sweep_rows(sweep_records(s, evals=3))
    assert len(rows.runs) == s["loss"].size and not rows.left_out
    assert rows.sequence_length == 512
    order = np.argsort([int(r[1:]) for r in rows.runs])
    for got, want in ((rows.learning_rate, "lr"), (rows.batch_tokens, "batch")):
        assert got[order] == pytest.approx(s[want], rel=1e-6)
    assert rows.loss[order] == pytest.approx(s["loss"])  # the final point, not an earlier one
    stored = fit_hyperparams(rows.params, rows.tokens, rows.learning_rate, rows.batch_tokens,
                             rows.loss, bootstrap=20)  # fmt: skip
    table = fit_hyperparams(s["params"], s["tokens"], s["lr"], s["batch"], s["loss"], bootstrap=20)
    assert stored.law.constants == pytest.approx(table.law.constants)


def test_runs_that_say_too_little_are_left_out_and_named() -> None:
    records = sweep_records(sweep(sizes=(1e7, 3e7, 1e8)))
    stopped = [r for r in records if r["run"] != "r0" or r["tokens"] < 1e9 / 2 + 1]
    for r in stopped:
        if r["run"] == "r1":
            r["schedule"] = None
        if r["run"] == "r2":
            r["tags"] = {}
    stopped[-1]["tags"] = {**stopped[-1]["tags"], "sequence_length": "1024"}
    rows = sweep_rows(stopped)
    assert rows.sequence_length is None  # the runs disagree: no one sequence length
    assert len(rows.runs) == len({r["run"] for r in records}) - 3
    why = "\n".join(rows.left_out)
    assert "r0: stopped at" in why and "r1: names no peak" in why and "r2: says no batch" in why


def test_no_usable_run_names_runs() -> None:
    records = [{**r, "tags": {}} for r in sweep_records(sweep(sizes=(1e7,)))]
    with pytest.raises(ArgumentError) as caught:
        sweep_rows(records)
    assert caught.value.name == "runs" and "batch" in caught.value.message


def test_runs_at_one_learning_rate_and_batch_each_are_no_sweep() -> None:
    s = sweep(sizes=(1e7, 3e7, 1e8))
    records = sweep_records(s)
    first: dict[tuple[int, float], str] = {}  # one run per (N, D): a loss-law sweep
    for r in records:
        first.setdefault((r["params"], r["schedule"]["total_tokens"]), r["run"])
    one_each = [r for r in records if r["run"] in set(first.values())]
    with pytest.raises(ArgumentError) as caught:
        sweep_rows(one_each)
    assert caught.value.name == "runs" and "not an LR or batch sweep" in caught.value.message
