"""Built-in datasets: the bundled files load as the runs the published fits used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flopwise.fitting.datasets import DATA_DIR, dataset_names, load_dataset, read_runs, stored_fits
from flopwise.fitting.laws import CDefinition, NDefinition
from tests.pins import (
    BESIROGLU,
    EPOCH_REPO,
    GEMSTONES_REPO,
    MCLEISH,
    PORIAN_REPO,
    published,
    regression_pin,
)

EPOCH_DIGITISED, EPOCH_KEPT = published(
    (245, 240),
    f"{BESIROGLU}: the points of {EPOCH_REPO} data/svg_extracted_data.csv, less the five "
    "highest losses (docs/laws.md §3)",
)
GEMSTONES_FILE = f"{GEMSTONES_REPO} wandb_dfs/"


def test_required_names_exist() -> None:
    names = dataset_names()
    for name in ("epoch-chinchilla", "gemstones-hot", "gemstones-hot-100b", "porian-2024"):
        assert name in names


@pytest.mark.parametrize("name", dataset_names())
def test_every_dataset_loads_valid_runs(name: str) -> None:
    ds = load_dataset(name)
    runs = ds.runs
    assert len(runs) > 20
    for col in (runs.params, runs.tokens, runs.loss):
        assert np.all(np.isfinite(col)) and np.all(col > 0)
    assert ds.source and ds.description


def test_epoch_is_the_240_points() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    assert len(runs) == EPOCH_KEPT
    np.testing.assert_allclose(runs.tokens, runs.flops / (6 * runs.params))
    assert runs.loss.max() < 5.0  # the five highest (digitisation outliers) are gone


def test_gemstones_rows_and_meaning() -> None:
    rows_100b, models, params_1024x28, rows_hot, vocab = published(
        (770, 22, 543_482_880, 220, 50304),
        f"{MCLEISH}: {GEMSTONES_FILE}wandb_df_for_fitting_hot_100b+.jsonl (770 rows of the 22 "
        "models; params_active_precise of 1024 x 28) and ..._hot.jsonl (220 rows); the Pythia "
        "vocabulary of 50,304 (docs/laws.md §8.1, §8.4)",
    )
    ds = load_dataset("gemstones-hot-100b")
    assert len(ds.runs) == rows_100b and len(set(ds.runs.run)) == models
    assert ds.c_definition is CDefinition.GEMSTONES and ds.n_definition is NDefinition.TOTAL
    i = int(np.flatnonzero((ds.runs.width == 1024) & (ds.runs.depth == 28))[0])
    assert ds.runs.params[i] == params_1024x28
    assert len(load_dataset("gemstones-hot").runs) == rows_hot
    no_emb = load_dataset("gemstones-hot-no-embeds").runs
    np.testing.assert_allclose(
        load_dataset("gemstones-hot").runs.params - no_emb.params, vocab * no_emb.width
    )


def test_porian_settings() -> None:
    main, kaplan_rows = regression_pin(
        (121, 107),
        how="len(load_dataset(name).runs): the rows of fitting/datasets/"
        f"porian2024_isoflop_points.csv (converted from {PORIAN_REPO}'s pickles) per setting",
        why="the converted file and the loader's selection of each setting stay as they were "
        "(the authors print no row counts)",
    )
    assert len(load_dataset("porian-2024").runs) == main
    kaplan = load_dataset("porian-2024-kaplan")
    assert len(kaplan.runs) == kaplan_rows and kaplan.n_definition is NDefinition.NON_EMBEDDING


def test_stored_fits_cover_both_deltas() -> None:
    delta_3, delta_4, main_loss = published(
        (20, 22, 0.0002949708),
        f"{MCLEISH}: the files of {GEMSTONES_REPO} parameters_delta-3/ and parameters_delta-4/, "
        "and 'loss' of parameters_delta-4/approach_3_width_depth_parameters_grid_search_0_"
        "hot_100b+.json (docs/laws.md §8.3)",
    )
    fits = stored_fits()
    assert len(fits["parameters_delta-3"]) == delta_3
    assert len(fits["parameters_delta-4"]) == delta_4
    main = fits["parameters_delta-4"][
        "approach_3_width_depth_parameters_grid_search_0_hot_100b+.json"
    ]
    assert main["loss"] == main_loss


def test_bundle_is_small_and_documented() -> None:
    provenance = (DATA_DIR / "PROVENANCE.md").read_text()
    for path in DATA_DIR.iterdir():
        if path.name == "PROVENANCE.md":
            continue
        assert path.stat().st_size < 2_000_000, path.name
        short = path.name.replace("gemstones_wandb_df_for_fitting", "…").replace(".jsonl", "")
        assert path.name in provenance or short.split("…")[-1] in provenance, path.name


def test_read_runs_csv_with_mapping() -> None:
    runs = read_runs(
        DATA_DIR / "epoch_svg_extracted_data.csv",
        params="Model Size",
        tokens=None,
        flops="Training FLOP",
    )
    assert len(runs) == EPOCH_DIGITISED
    np.testing.assert_allclose(runs.tokens * 6 * runs.params, runs.flops)


def test_read_runs_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    rows = [{"n": 1e8 * (i + 1), "d": 2e9, "L": 3.0 - 0.1 * i, "name": f"m{i}"} for i in range(4)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    runs = read_runs(path, params="n", tokens="d", loss="L", run="name")
    assert list(runs.run) == ["m0", "m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("content", "suffix", "kwargs", "match"),
    [
        (
            "params,tokens,loss\n1e9,2e10,nan\n",
            ".csv",
            {},
            "row 0: loss must be positive and finite",
        ),
        ("params,tokens,loss\n1e9,2e10,-2\n", ".csv", {}, "row 0: loss must be positive"),
        ("params,tokens,loss\n1e9,,2.5\n", ".csv", {}, "row 0: tokens is missing"),
        ("a,b\n1,2\n", ".csv", {}, "no column 'params'"),
        ("{not json\n", ".jsonl", {}, "not valid JSON lines"),
        ("x", ".txt", {}, "expected a .csv or .jsonl file"),
    ],
)
def test_read_runs_bad_files(
    tmp_path: Path, content: str, suffix: str, kwargs: dict, match: str
) -> None:
    path = tmp_path / f"runs{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_runs(path, **kwargs)


def test_unknown_dataset() -> None:
    with pytest.raises(
        ValueError, match="dataset: unknown dataset 'nope'; known: epoch-chinchilla"
    ):
        load_dataset("nope")
