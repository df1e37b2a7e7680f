"""``flopwise hyperparams``: a learning rate and batch from a hyper-parameter law,
offline, through the same answer path as ``POST /v1/hyperparams``.

    flopwise hyperparams --params 4.4e8 --tokens 1e10 --law step-law-2025 --json
    flopwise hyperparams --params 1e9 --tokens 2e10 --law-file my-sweep-law.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flopwise.fitting.hyperlaws import HyperLaw, builtin_hyper, hyper_from_dict
from flopwise.service import queries
from flopwise.service.cli.answer_cmd import AS_JSON, FILE
from flopwise.service.cli.app import answering, fail
from flopwise.service.cli.options import model_options, request_from
from flopwise.service.schemas.hyper import HyperparamsRequest

__all__ = ["hyperparams_command", "load_hyper"]


def load_hyper(ref: str, path: Path | None) -> HyperLaw:
    """The hyper-parameter law saved in ``path`` (``flopwise fit-hyperparams
    --save-law``), else the built-in one under ``ref``."""
    if path is None:
        return builtin_hyper(ref)
    try:
        return hyper_from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise fail(f"--law-file: cannot read a hyper-parameter law from {path}: {exc}") from None


def _table(answer: dict[str, Any]) -> None:
    seq = answer["sequence_length"]
    click.echo(
        f"{answer['law']}: learning rate {answer['learning_rate']:.4g}, batch "
        f"{answer['batch_size_tokens']:.4g} tokens ({answer['batch_size_sequences']:.4g} "
        f"sequences of {seq})"
    )
    click.echo(f"  N counts: {answer['n_definition']}; source: {answer['source']}")
    click.echo("every built-in law at the same N and D:")
    for other in answer["comparison"]:
        click.echo(
            f"  {other['law']:<20} learning rate {other['learning_rate']:<10.4g} batch "
            f"{other['batch_size_tokens']:.4g} tokens"
        )
    for text in dict.fromkeys([*answer["caveats"], *answer["warnings"]]):
        click.echo(f"note: {text}")


@click.command("hyperparams")
@model_options(HyperparamsRequest)
@click.option(
    "--law-file",
    type=FILE,
    default=None,
    help="A hyper-parameter law saved as JSON (`flopwise fit-hyperparams --save-law`).",
)
@AS_JSON
def hyperparams_command(law_file: Path | None, as_json: bool, **opts: Any) -> None:
    """Peak learning rate and global batch for --params N trained on --tokens D, from
    one law (--law, or --law-file); every built-in law's answer beside it, and a note
    where they disagree by more than 2x."""
    with answering():
        req = request_from(HyperparamsRequest, opts)
        law = load_hyper(req.law, law_file)
        answer = queries.hyperparams(law, req)
    if as_json:
        click.echo(queries.to_json("hyperparams", answer).decode())
    else:
        _table(answer)
