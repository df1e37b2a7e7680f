"""flopwise trainer: calibration models, sweeps and the observations a scaling law is fitted on.

The pieces, each in its own module:

* ``model``        the decoder-only transformer, built from a ``fitting.counting.ArchSpec``
                   (its parameter count is the counter's, exactly);
* ``config``       typed job configuration (``Job`` = ``ModelConfig`` + ``TrainConfig``);
* ``train``        the training loop: Gemstones LR rule, warmup-stable-decay, AdamW, bf16 on
                   GPU, DDP under torchrun, checkpoints, one observation per evaluation;
* ``corpus``, ``tokenizer``, ``data``   a byte-level corpus from local text, nanoGPT files;
* ``plan``, ``sweep``, ``executor``     calibration sweeps from a budget and a time cap
                   (the request: ``protocol.sweep.SweepRequest``);
* ``slurm``        the Slurm executor beside the local one (``executor.Executor``);
* ``client``, ``sinks``, ``refit``      the service over HTTP, JSONL, and the refit;
* ``commands``, ``cli``   ``python -m flopwise.trainer train | sweep | plan | corpus``,
                   generated from pydantic models by pydantic-settings.

The names below are loaded on first use (PEP 562): ``import flopwise.trainer.plan`` or
``python -m flopwise.trainer --help`` does not load torch. The trainer imports
``fitting`` and ``protocol`` and never ``service``: it talks to the service over HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flopwise.fitting.lazy import lazy_exports

if TYPE_CHECKING:
    from flopwise.trainer.config import Job, ModelConfig, TrainConfig
    from flopwise.trainer.corpus import CorpusConfig, build_corpus
    from flopwise.trainer.model import Transformer
    from flopwise.trainer.plan import Plan, PlanConfig, make_plan
    from flopwise.trainer.sweep import SweepConfig, execute, prepare
    from flopwise.trainer.tokenizer import ByteTokenizer
    from flopwise.trainer.train import RunResult, train

_EXPORTS = {
    "config": ("Job", "ModelConfig", "TrainConfig"),
    "corpus": ("CorpusConfig", "build_corpus"),
    "model": ("Transformer",),
    "plan": ("Plan", "PlanConfig", "make_plan"),
    "sweep": ("SweepConfig", "execute", "prepare"),
    "tokenizer": ("ByteTokenizer",),
    "train": ("RunResult", "train"),
}

__all__ = [
    "ByteTokenizer",
    "CorpusConfig",
    "Job",
    "ModelConfig",
    "Plan",
    "PlanConfig",
    "RunResult",
    "SweepConfig",
    "TrainConfig",
    "Transformer",
    "build_corpus",
    "execute",
    "make_plan",
    "prepare",
    "train",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
