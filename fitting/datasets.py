"""Built-in training-run datasets: published runs bundled in ``fitting/datasets/``.

``load_dataset(name)`` returns a :class:`Dataset` (the runs plus what their N and C
mean and where they come from); ``dataset_names()`` lists the names. Sources and
licences are in ``fitting/datasets/PROVENANCE.md``. ``read_runs`` reads a user's
CSV or JSONL file with column mapping (what ``flopwise fit FILE`` uses).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.curve_data import gemstones_cooldown_runs
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.ladder_runs import ladder_runs
from flopwise.fitting.laws import CDefinition, NDefinition
from flopwise.fitting.runs import Runs
from flopwise.fitting.tables import CellError, row_schedule

__all__ = [
    "DATA_DIR",
    "Dataset",
    "dataset_names",
    "load_dataset",
    "read_column",
    "read_runs",
    "read_table",
    "stored_fits",
]

DATA_DIR = Path(__file__).resolve().parent / "datasets"

GEMSTONES_SOURCE = "mcleish7/gemstone-scaling-laws @ 5f420478 (MIT)"
EPOCH_SOURCE = "epoch-research/analyzing-chinchilla @ 92258837 (no licence stated)"
PORIAN_SOURCE = "formll/resolving-scaling-law-discrepancies @ 0dc60d91 (MIT)"
LADDER_SOURCE = "allenai/OLMo-ladder @ 67a3f440 (Apache-2.0)"
CURVE_FORMS = ("multi-power", "tissue")
GEMSTONES_VOCAB = 50304


@dataclass(frozen=True, eq=False)
class Dataset:
    """Runs with their meaning: what N counts, how C is counted, where they come from."""

    name: str
    description: str
    runs: Runs
    source: str
    n_definition: NDefinition = NDefinition.TOTAL
    c_definition: CDefinition = CDefinition.SIX_ND
    family: ArchFamily | None = None
    tokenizer: str = ""
    corpus: str = ""
    forms: tuple[str, ...] = ("chinchilla",)
    """Forms the data can fit (width-depth needs width and depth)."""
    extra: Mapping[str, Any] = field(default_factory=dict)


def _epoch() -> Dataset:
    """Besiroglu et al. 2024: 245 digitised Chinchilla runs; the 5 highest losses dropped,
    D = C / (6 N) (docs/laws.md §3)."""
    with open(DATA_DIR / "epoch_svg_extracted_data.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    keep = np.sort(np.argsort(loss, kind="stable")[: len(loss) - 5])
    runs = Runs(
        params=n[keep],
        tokens=c[keep] / (6.0 * n[keep]),
        loss=loss[keep],
        run=np.array([f"chinchilla-fig4-{i}" for i in keep], dtype=object),
        flops=c[keep],
    )
    return Dataset(
        "epoch-chinchilla",
        "Chinchilla Fig. 4 runs digitised by Epoch AI (240 of 245 points)",
        runs,
        EPOCH_SOURCE,
        tokenizer="SentencePiece (32,000)",
        corpus="MassiveText",
    )


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _gemstones(
    subset: str, *, no_embeds: bool = False, hull: bool = False
) -> Callable[[], Dataset]:
    def load() -> Dataset:
        rows = list(_jsonl(DATA_DIR / f"gemstones_wandb_df_for_fitting_{subset}.jsonl"))
        if hull:  # the authors' Approach 1 drops step 0 (plotters/approach_1.py)
            rows = [r for r in rows if r.get("step", 1) > 0]
        has_shape = "width" in rows[0]
        params = np.array([float(r["params_active_precise"]) for r in rows])
        width = np.array([int(r["width"]) for r in rows]) if has_shape else None
        if no_embeds and width is not None:  # depth_width.py --no_embeds
            params = params - GEMSTONES_VOCAB * width
        flops = None if has_shape else np.array([float(r["FLOPs"]) for r in rows])
        runs = Runs(
            params=params,
            tokens=np.array([float(r["tokens"]) for r in rows]),
            loss=np.array([float(r["final_loss"]) for r in rows]),
            run=np.array(
                [str(r.get("run_name", f"row-{i}")) for i, r in enumerate(rows)], dtype=object
            ),
            width=width,
            depth=np.array([int(r["depth"]) for r in rows]) if has_shape else None,
            flops=flops,
            seconds_per_step=np.array([float(r["seconds_per_step"]) for r in rows])
            if has_shape
            else None,
        )
        forms = ("chinchilla", "width-depth", "width-depth-alt") if has_shape else ("chinchilla",)
        return Dataset(
            _gemstones_name(subset, no_embeds),
            f"Gemstones {subset} validation losses"
            + (" (params without embeddings)" if no_embeds else ""),
            runs,
            GEMSTONES_SOURCE,
            n_definition=NDefinition.NON_EMBEDDING if no_embeds else NDefinition.TOTAL,
            c_definition=CDefinition.GEMSTONES,
            family=ArchFamily(),
            tokenizer="Pythia (50,304)",
            corpus="Dolma 1.7",
            forms=forms,
            extra={"subset": subset},
        )

    return load


def _gemstones_name(subset: str, no_embeds: bool) -> str:
    base = "gemstones-" + subset.replace("_100b+", "-100b").replace("_120b+", "-120b").replace(
        "_", "-"
    )
    return base + ("-no-embeds" if no_embeds else "")


PORIAN_SETTINGS = {
    "porian-2024": ("Optimizer tuning (no decay)", NDefinition.WITH_HEAD),
    "porian-2024-decay": ("Cosine decay", NDefinition.WITH_HEAD),
    "porian-2024-warmup": ("Correcting warmup", NDefinition.WITH_HEAD),
    "porian-2024-head-flops": ("Counting last layer FLOPs", NDefinition.WITH_HEAD),
    "porian-2024-kaplan": ("Reproducing Kaplan et al.", NDefinition.NON_EMBEDDING),
}
"""RefinedWeb settings of Porian et al. 2024 (``data/summary_df.pickle.xz``), one per correction."""


def _porian(name: str) -> Callable[[], Dataset]:
    label, n_def = PORIAN_SETTINGS[name]

    def load() -> Dataset:
        with open(DATA_DIR / "porian2024_isoflop_points.csv", newline="") as fh:
            rows = [
                r
                for r in csv.DictReader(fh)
                if r["label"] == label
                and r["dataset"] == "rw"
                and r["source_file"] == "data/summary_df.pickle.xz"
            ]
        n = np.array([float(r["n"]) for r in rows])
        runs = Runs(
            params=n,
            tokens=np.array([float(r["t"]) for r in rows]),
            loss=np.array([float(r["loss"]) for r in rows]),
            run=np.array([f"n={v:.0f}" for v in n], dtype=object),
            flops=np.array([float(r["flops"]) for r in rows]),
        )
        return Dataset(
            name,
            f"Porian et al. 2024 isoFLOP points, RefinedWeb, {label} ({rows[0]['loss_split']} loss)",
            runs,
            PORIAN_SOURCE,
            n_definition=n_def,
            tokenizer="GPT-NeoX (50,432)",
            corpus="RefinedWeb",
            forms=("power-law",),
            extra={"label": label},
        )

    return load


_GEMSTONES_SUBSETS = (
    "hot",
    "hot_100b+",
    "hot_120b+_only",
    "hot_100b+_512x",
    "cool_begin",
    "cool_end",
    "lr_ablation_hot",
    "hot_sampled_like_chinchilla",
    "lr_ablation_hot_sampled_like_chinchilla",
    "slim_chinchilla",
)
_WITH_SHAPE = (
    "hot",
    "hot_100b+",
    "hot_120b+_only",
    "hot_100b+_512x",
    "cool_begin",
    "cool_end",
    "lr_ablation_hot",
)


def _ladder() -> Dataset:
    """Bhagia et al. 2024: the OLMo ladder, 190M to 3B, every checkpoint, with task
    metrics, the LR it logged and its cosine schedule (docs/laws.md §20, §21)."""
    return Dataset(
        "olmo-ladder",
        "OLMo model ladder (190M-3B, 0.5-10x Chinchilla tokens): C4 loss, held-out losses, "
        "per-task bits per byte and accuracy",
        ladder_runs(DATA_DIR / "olmo_ladder_runs.csv"),
        LADDER_SOURCE,
        n_definition=NDefinition.WITH_HEAD,
        tokenizer="OLMo 2 (vocabulary 100,352)",
        corpus="the OLMo ladder's pretraining data",
        forms=("chinchilla", *CURVE_FORMS),
    )


def _cooldown() -> Dataset:
    """Gemstones' constant-LR runs and their linear cooldowns (docs/laws.md §21.5)."""
    name = "gemstones_wandb_df_for_fitting_{}.jsonl"
    runs = gemstones_cooldown_runs(
        _jsonl(DATA_DIR / name.format("hot_100b+")),
        _jsonl(DATA_DIR / name.format("cool_begin")),
        _jsonl(DATA_DIR / name.format("cool_end")),
    )
    return Dataset(
        "gemstones-cooldown",
        "Gemstones constant-LR curves and their cooldown branches (10B to 100B)",
        runs,
        GEMSTONES_SOURCE,
        c_definition=CDefinition.GEMSTONES,
        family=ArchFamily(),
        tokenizer="Pythia (50,304)",
        corpus="Dolma 1.7",
        forms=CURVE_FORMS,
    )


_LOADERS: dict[str, Callable[[], Dataset]] = {
    "epoch-chinchilla": _epoch,
    "olmo-ladder": _ladder,
    "gemstones-cooldown": _cooldown,
}
for _s in _GEMSTONES_SUBSETS:
    _LOADERS[_gemstones_name(_s, False)] = _gemstones(_s)
for _s in _WITH_SHAPE:
    _LOADERS[_gemstones_name(_s, True)] = _gemstones(_s, no_embeds=True)
_LOADERS["gemstones-hot-477"] = _gemstones("hot_477", hull=True)
for _name in PORIAN_SETTINGS:
    _LOADERS[_name] = _porian(_name)


def dataset_names() -> tuple[str, ...]:
    """Every built-in dataset name."""
    return tuple(_LOADERS)


def load_dataset(name: str) -> Dataset:
    """A built-in dataset by name; ``ValueError`` lists the names."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise ArgumentError(
            "dataset", f"unknown dataset {name!r}; known: {', '.join(_LOADERS)}"
        ) from None
    return loader()


def stored_fits() -> dict[str, dict[str, dict[str, Any]]]:
    """Gemstones' own Approach-3 optima: ``{"parameters_delta-3" | "parameters_delta-4":
    {file name: {success, loss, exponents, coefficients, irreducible_error}}}``."""
    with open(DATA_DIR / "gemstones_stored_fits.json") as fh:
        data: dict[str, dict[str, dict[str, Any]]] = json.load(fh)
    return data


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV or JSONL file as dicts (``ValueError`` naming the file when it is
    missing or unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    return _records(path)


def _records(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        try:
            return list(_jsonl(path))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON lines ({exc})") from None
    if suffix == ".csv":
        with open(path, newline="") as fh:
            return list(csv.DictReader(fh))
    raise ValueError(f"{path}: expected a .csv or .jsonl file")


def read_runs(
    path: str | Path,
    *,
    params: str = "params",
    tokens: str | None = "tokens",
    loss: str = "loss",
    run: str | None = None,
    width: str | None = None,
    depth: str | None = None,
    flops: str | None = None,
    lr: str | None = None,
    metrics: tuple[str, ...] = (),
) -> Runs:
    """Runs from a CSV or JSONL file, naming the column that holds each field, and
    ``metrics``: columns carried as named metrics (an empty cell: the row lacks it).

    Without a tokens column, tokens are ``flops / (6 params)`` (as Epoch derive them).
    ``lr`` names the column of the LR in force at each row (loss curves); a row may
    also carry its run's schedule (``fitting.tables.row_schedule``). Bad values raise
    ``ValueError`` naming the row and field.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows = _records(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    mapping = {"params": params, "tokens": tokens, "loss": loss, "run": run, "width": width,
               "depth": depth, "flops": flops, "lr": lr}  # fmt: skip
    _check_columns(path, set(rows[0]), [*mapping.items(), *(("metrics", m) for m in metrics)])
    if tokens is None and flops is None:
        raise ArgumentError(
            "tokens", "give a tokens column, or a flops column to derive tokens from"
        )
    return Runs.from_records([_record(i, row, mapping, metrics) for i, row in enumerate(rows)])


def _record(
    i: int, row: Mapping[str, Any], mapping: Mapping[str, str | None], metrics: tuple[str, ...]
) -> dict[str, Any]:
    """Row ``i`` as a ``Runs.from_records`` record (tokens from flops without a column)."""
    rec: dict[str, Any] = {k: _value(row[c]) for k, c in mapping.items() if c is not None}
    run = mapping["run"]
    rec["run"] = str(row[run]) if run is not None else f"row-{i}"
    rec["metrics"] = {m: v for m in metrics if (v := _value(row[m])) is not None}
    try:
        rec["schedule"] = row_schedule(row)
        if mapping["tokens"] is None:
            rec["tokens"] = float(rec["flops"]) / (6.0 * float(rec["params"]))
    except CellError as exc:
        raise ValueError(f"row {i}: {exc}") from None
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"row {i}: cannot derive tokens from flops and params") from None
    return rec


def _check_columns(path: Path, header: set[str], wanted: list[tuple[str, str | None]]) -> None:
    for field_name, column in wanted:
        if column is not None and column not in header:
            raise ValueError(
                f"{path}: no column {column!r} for {field_name} (columns: {', '.join(sorted(header))})"
            )


def _value(raw: Any) -> Any:
    if isinstance(raw, str):
        raw = raw.strip()
        return None if raw == "" else raw
    return raw


def read_column(path: str | Path, column: str) -> np.ndarray:
    """One numeric column of a CSV or JSONL file (e.g. unique tokens per run)."""
    rows = _records(Path(path))
    if not rows or column not in rows[0]:
        raise ValueError(f"{path}: no column {column!r}")
    try:
        return np.array([float(r[column]) for r in rows])
    except (TypeError, ValueError):
        raise ValueError(f"{column}: every value must be a number") from None
