"""Laws as values: validation, serialisation, prediction errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flopwise.fitting.catalogue import BUILTIN_LAWS, DEFAULT_LAW, builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import checked, law_form
from flopwise.fitting.laws import Form, Law, from_dict, to_dict
from flopwise.fitting.prediction import predict
from tests.pins import HOFFMANN, published

REQUIRED_IDS = {
    "kaplan-2020",
    "chinchilla-2022",
    "chinchilla-2022-rounded",
    "epoch-2024",
    "porian-2024",
    "deepseek-2024",
    "gemstones-2025",
    "muennighoff-2023",
}


def test_catalogue_has_the_stable_ids() -> None:
    assert set(BUILTIN_LAWS) >= REQUIRED_IDS
    assert DEFAULT_LAW == "epoch-2024"
    for law in BUILTIN_LAWS.values():
        assert law.citation and law.source, law.id
        assert law.verified
    assert builtin("chinchilla-2022-rounded").rounded and not builtin("chinchilla-2022").rounded
    # Unrounded means the TeX source's digits, not the printed 0.34 / 0.28.
    alpha = published(0.33917084, f"{HOFFMANN}: α in the TeX source (docs/laws.md §2.2)")
    assert builtin("chinchilla-2022").constants["alpha"] == alpha


@pytest.mark.parametrize("law_id", sorted(BUILTIN_LAWS))
def test_json_round_trip(law_id: str) -> None:
    law = builtin(law_id)
    again = from_dict(json.loads(json.dumps(to_dict(law))))
    assert to_dict(again) == to_dict(law)


def test_round_trip_keeps_draws() -> None:
    law = builtin("epoch-2024")
    draws = np.tile([law.constants[k] for k in law_form(Form.CHINCHILLA).constants], (5, 1))
    again = from_dict(json.loads(json.dumps(to_dict(law.evolve(draws=draws, version=3)))))
    assert again.version == 3 and again.ref == "epoch-2024@3"
    assert again.draws is not None and np.array_equal(again.draws, draws)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"form": "chinchilla", "constants": {"E": 1.0}}, "lacks A, B, alpha, beta"),
        (
            {
                "form": "chinchilla",
                "constants": {"E": 1, "A": 1, "B": 1, "alpha": 1, "beta": 1, "Z": 2},
            },
            "unknown Z",
        ),
        (
            {
                "form": "chinchilla",
                "constants": {"E": float("nan"), "A": 1, "B": 1, "alpha": 1, "beta": 1},
            },
            "not finite",
        ),
        ({"form": "tabulated", "constants": {}}, "table"),
        ({"form": "nonsense", "constants": {}}, "nonsense"),
    ],
)
def test_bad_laws_are_refused(kwargs: dict, message: str) -> None:
    # a Law checks what it can alone (finite constants); its form checks the rest,
    # before the law answers anything
    with pytest.raises(ValueError, match=message):
        law = Law(id="x", **kwargs)
        checked(law)
    if message != "not finite":
        law = Law(id="x", **kwargs)
        with pytest.raises(ValueError, match=message):
            predict(law, params=1e9, tokens=1e10)


def test_draws_must_match_the_form() -> None:
    law = builtin("epoch-2024").evolve(draws=np.ones((4, 3)))
    with pytest.raises(ValueError, match="draws"):
        checked(law)
    with pytest.raises(ValueError, match="draws"):
        law_form(law)


def test_predict_errors_name_what_is_missing() -> None:
    with pytest.raises(ArgumentError, match=r"width: .*width and depth") as info:
        predict(builtin("gemstones-2025"), params=1e9, tokens=1e10)
    assert info.value.name == "width"
    with pytest.raises(ValueError, match="params"):
        predict(builtin("epoch-2024"), tokens=1e10)
    with pytest.raises(ValueError, match="tokens"):
        predict(builtin("epoch-2024"), params=1e9, tokens=-1.0)
    with pytest.raises(ValueError, match="frontier"):
        predict(builtin("porian-2024"), params=1e9, tokens=1e10)


def test_predict_from_shape_uses_the_laws_parameter_count() -> None:
    law = builtin("epoch-2024")
    spec = law.family.spec(2048, 24)
    from flopwise.fitting.counting import count

    by_shape = predict(law, width=2048, depth=24, tokens=1e11).loss
    assert by_shape == pytest.approx(predict(law, params=count(spec).total, tokens=1e11).loss)


def test_public_surface_is_pinned() -> None:
    from flopwise import fitting

    assert sorted(fitting.__all__) == sorted(
        ["BUILTIN_LAWS", "DEFAULT_LAW", "GPUS", "Allocation", "ArchFamily", "ArchSpec", "CDefinition",
         "Counts", "Domain", "DownstreamLink", "Form", "Frontier", "Law", "NDefinition",
         "Prediction", "Runs", "Shape", "ShapeConstraints", "allocate", "budget_to_flops",
         "builtin", "cost_of", "count", "flops_per_token", "frontier",
         "inference_optimal_for_loss", "predict", "predict_metrics", "quality_loss",
         "target_budget"]
    )  # fmt: skip
    assert all(hasattr(fitting, name) for name in fitting.__all__)
