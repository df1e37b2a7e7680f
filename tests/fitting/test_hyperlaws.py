"""Hyper-parameter laws: each published formula's worked numbers (docs/laws.md §18),
the laws as data (ranges, units, what N counts), and the 2x disagreement caveat."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import get_args

import numpy as np
import pytest

from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import builtin
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.flops import deepseek_model_scale
from flopwise.fitting.hyperlaws import (
    BUILTIN_HYPER_LAWS,
    POWER_LAW_CONSTANTS,
    HyperLawId,
    builtin_hyper,
    disagreement,
    hyper_from_dict,
    hyper_to_dict,
    recommend,
    shape_hyperparameters,
)
from flopwise.fitting.hyperparams import (
    PORIAN_TUNED,
    deepseek_hyperparameters,
    olmo_ladder_batch_sequences,
    olmo_ladder_learning_rate,
    porian_batch_sequences,
    porian_learning_rate,
    step_law_batch_size,
    step_law_learning_rate,
)
from flopwise.fitting.laws import Domain, NDefinition
from tests.hyper_samples import power_law_hyper

OLMO_LADDER_LOGS = {
    # N as the ladder counts it -> (logged learning_rate_peak, logged batch_size_in_tokens),
    # allenai/OLMo-ladder @ 67a3f440, src/scripts/paper/data/ladder-runs/<size>-1xC.csv
    190_354_176: (9.727e-4, 524_288),
    371_262_464: (7.785e-4, 786_432),
    758_220_288: (6.136e-4, 1_310_720),
    1_279_395_840: (5.154e-4, 1_572_864),
    3_169_537_280: (3.809e-4, 3_145_728),
}


def test_step_law_worked_numbers() -> None:
    # Li et al. 2025: 0.44B non-embedding parameters on 10B tokens
    assert step_law_learning_rate(0.44e9, 1e10) == pytest.approx(1.446e-3, rel=1e-3)
    assert step_law_batch_size(1e10) == pytest.approx(2.975e5, rel=1e-3)
    # the batch depends on D alone; the learning rate falls with N and rises with D
    assert step_law_learning_rate(1e9, 1e10) < step_law_learning_rate(1e8, 1e10)
    assert step_law_learning_rate(1e9, 1e11) > step_law_learning_rate(1e9, 1e10)


@pytest.mark.parametrize(("params", "logged"), OLMO_LADDER_LOGS.items())
def test_olmo_ladder_rule_reproduces_the_logged_runs(
    params: int, logged: tuple[float, int]
) -> None:
    lr, batch_tokens = logged
    assert olmo_ladder_learning_rate(params, 4096) == pytest.approx(lr, rel=1e-3)
    sequences = olmo_ladder_batch_sequences(params, 4096, divisor=64)
    assert sequences * 4096 == batch_tokens
    # at 2048 the rule gives 4x the learning rate and the same tokens per batch
    assert olmo_ladder_learning_rate(params, 2048) == pytest.approx(4 * lr, rel=1e-3)
    unrounded = olmo_ladder_batch_sequences(params, 2048) * 2048
    assert unrounded == pytest.approx(olmo_ladder_batch_sequences(params, 4096) * 4096)


def test_olmo_ladder_refuses_other_sequence_lengths() -> None:
    with pytest.raises(ArgumentError) as info:
        olmo_ladder_learning_rate(1e9, 1024)
    assert info.value.name == "sequence_length"


def test_porian_map_reproduces_every_row() -> None:
    table = np.asarray(PORIAN_TUNED, dtype=float)
    np.testing.assert_allclose(porian_learning_rate(table[:, 0]), table[:, 2], rtol=1e-12)
    np.testing.assert_allclose(porian_batch_sequences(table[:, 0]), table[:, 1], rtol=1e-12)
    # the notebook's 108.46M model: 160 sequences of 2048 at 4.7e-3
    assert porian_batch_sequences(108_462_080) == pytest.approx(160)
    assert porian_learning_rate(108_462_080) == pytest.approx(4.7e-3)


def test_porian_map_interpolates_in_log_n() -> None:
    (n0, b0, lr0), (n1, b1, lr1) = PORIAN_TUNED[9], PORIAN_TUNED[10]
    middle = float(np.sqrt(n0 * n1))  # halfway in log N
    assert porian_learning_rate(middle) == pytest.approx(np.sqrt(lr0 * lr1))
    assert porian_batch_sequences(middle) == pytest.approx(np.sqrt(b0 * b1))
    beyond = porian_learning_rate(2 * PORIAN_TUNED[-1][0])
    assert beyond < PORIAN_TUNED[-1][2]  # along the end segment, still falling


def test_builtin_ids_are_the_closed_set() -> None:
    assert tuple(BUILTIN_HYPER_LAWS) == get_args(HyperLawId)
    for law in BUILTIN_HYPER_LAWS.values():
        assert law.source and law.n_counts and law.batch_unit in ("tokens", "sequences")
        assert law.sequence_length > 0
    with pytest.raises(ArgumentError) as info:
        builtin_hyper("no-such-law")
    assert info.value.name == "hyperparameters"


def test_recommend_names_its_law_units_and_range() -> None:
    olmo = BUILTIN_HYPER_LAWS["olmo-ladder-2024"]
    answer = recommend(olmo, 1_279_395_840, 2.56e10)
    assert answer.law == "olmo-ladder-2024"
    assert answer.sequence_length == 4096
    assert answer.learning_rate == pytest.approx(5.154e-4, rel=1e-3)
    assert answer.batch_size_sequences == pytest.approx(415.73, rel=1e-4)
    assert answer.batch_size_tokens == pytest.approx(answer.batch_size_sequences * 4096)
    assert answer.n_definition == "with_head"
    assert answer.caveats == ()
    outside = recommend(olmo, 3e10, 6e11)
    assert any("outside the range olmo-ladder-2024 was fitted on" in c for c in outside.caveats)
    porian = recommend(BUILTIN_HYPER_LAWS["porian-2024-tuned"], 108_462_080, 2e9)
    assert porian.batch_size_tokens == pytest.approx(160 * 2048)
    with pytest.raises(ArgumentError) as info:
        recommend(olmo, -1.0, 1e9)
    assert info.value.name == "params"


def test_disagreement_lists_every_law_beyond_2x() -> None:
    answers = [recommend(law, 4.4e8, 1e10) for law in BUILTIN_HYPER_LAWS.values()]
    note = disagreement(answers)
    assert note is not None and "more than 2x" in note
    for law in BUILTIN_HYPER_LAWS:
        assert law in note
    close = [
        answers[0],
        replace(answers[0], law="twin", learning_rate=answers[0].learning_rate * 1.5),
    ]
    assert disagreement(close) is None


def test_allocate_default_is_deepseek_at_the_shape() -> None:
    law = builtin("epoch-2024")
    out = allocate(law, 1e21)
    assert out.hyperparameters is not None and out.shape is not None
    scale = float(deepseek_model_scale(out.shape.width, out.shape.depth, law.family.seq_len))
    expected = deepseek_hyperparameters(scale, out.tokens)
    assert out.hyperparameters.law == "deepseek-2024"
    assert out.hyperparameters.learning_rate == pytest.approx(expected.learning_rate, rel=1e-12)
    assert out.hyperparameters.batch_size_tokens == pytest.approx(expected.batch_size_tokens)
    assert any("disagree by more than 2x" in c for c in out.hyperparameters.caveats)


def test_allocate_with_step_law_counts_n_without_embeddings() -> None:
    law = builtin("epoch-2024")
    step = BUILTIN_HYPER_LAWS["step-law-2025"]
    out = allocate(law, 1e21, hyperparameters=step)
    assert out.hyperparameters is not None and out.shape is not None
    family = law.family
    direct = shape_hyperparameters(step, family, out.shape.width, out.shape.depth, out.tokens)
    _, non_embedding, _ = family.param_counts(out.shape.width, out.shape.depth)
    assert out.hyperparameters.law == "step-law-2025"
    assert out.hyperparameters.params == pytest.approx(float(non_embedding))
    assert out.hyperparameters.learning_rate == pytest.approx(
        float(step_law_learning_rate(float(non_embedding), out.tokens))
    )
    assert direct.learning_rate == out.hyperparameters.learning_rate


def test_fitted_law_round_trips_through_json() -> None:
    law = power_law_hyper(
        n_definition=NDefinition.TOTAL,
        domain=Domain(params=(1e7, 1e8), tokens=(1e8, 1e10)),
        constants=dict(zip(POWER_LAW_CONSTANTS, (0.5, -0.5, 0.1, -1.0, 0.0, 0.6), strict=True)),
        draws=((0.5, -0.5, 0.1, -1.0, 0.0, 0.6), (0.6, -0.5, 0.1, -1.1, 0.0, 0.6)),
    )
    back = hyper_from_dict(json.loads(json.dumps(hyper_to_dict(law))))
    assert back == law
    answer = recommend(back, 5e7, 1e9)
    assert answer.learning_rate == pytest.approx(np.exp(0.5) * 5e7**-0.5 * 1e9**0.1)
    assert answer.learning_rate_interval is not None
    lo, hi = answer.learning_rate_interval
    assert lo < hi
    with pytest.raises(ValueError, match="kind"):
        hyper_from_dict({"id": "x"})
    broken = {**hyper_to_dict(law), "constants": {"lr_log_k": 1.0}}
    with pytest.raises(ValueError, match="needs"):
        hyper_from_dict(broken)


def test_sequence_length_other_than_the_ladders_is_a_caveat() -> None:
    family = ArchFamily(seq_len=1024)
    answer = shape_hyperparameters(BUILTIN_HYPER_LAWS["olmo-ladder-2024"], family, 1024, 12, 1e10)
    assert answer.sequence_length == 1024
    assert any("2048 or 4096" in c for c in answer.caveats)
