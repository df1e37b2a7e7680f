"""``python -m trainer``: train one model, plan or run a calibration sweep, build a corpus.

``flopwise train ...`` and ``flopwise sweep ...`` exec these commands with the same
arguments. A bad option or value prints one line on stderr,
``trainer <command>: error: <what is wrong>``, and exits with status 2; a service that
cannot be reached or a sweep with failed runs exits with status 1.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from flopwise.fitting.errors import ArgumentError
from flopwise.protocol.cli import validation_message
from flopwise.trainer.cli_options import budget_options, sweep_options, train_options
from flopwise.trainer.client import ServiceClient, ServiceError
from flopwise.trainer.executor import ExecutorError
from flopwise.trainer.progress import make_reporter

if TYPE_CHECKING:
    from flopwise.trainer.sweep import SweepResult

__all__ = ["main", "run"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
def main() -> None:
    """flopwise trainer: calibration models, sweeps and corpora."""


def run(argv: list[str] | None = None) -> int:
    """Entry point: click without multi-line usage dumps; user errors exit 2."""
    args = sys.argv[1:] if argv is None else argv
    command = f"trainer {args[0]}" if args and not args[0].startswith("-") else "trainer"
    try:
        result = main.main(args=args, prog_name="trainer", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else command
        click.echo(f"{where}: error: {' '.join(exc.format_message().split())}", err=True)
        return 2
    except ArgumentError as exc:
        flag = f"--{exc.name.replace('_', '-')}"
        click.echo(f"{command}: error: {flag}: {' '.join(exc.message.split())}", err=True)
        return 2
    except ValidationError as exc:
        click.echo(f"{command}: error: {validation_message(exc)}", err=True)
        return 2
    except ValueError as exc:
        click.echo(f"{command}: error: {' '.join(str(exc).split())}", err=True)
        return 2
    except ExecutorError as exc:
        click.echo(f"{command}: executor: {' '.join(str(exc).split())}", err=True)
        return 1
    except ServiceError as exc:
        click.echo(f"{command}: service: {' '.join(str(exc).split())}", err=True)
        return 1
    except (click.Abort, KeyboardInterrupt):
        click.echo(f"{command}: aborted", err=True)
        return 1
    return int(result) if isinstance(result, int) else 0


@main.command("train")
@train_options
def train_command(**opts: Any) -> int:
    """Train one model; every evaluation point becomes an observation."""
    from flopwise.trainer.cli_options import job_from_options
    from flopwise.trainer.sinks import JsonlSink, ServiceSink
    from flopwise.trainer.train import Sink, train

    job = job_from_options(opts)
    sink: Sink | None = None
    client = None
    if opts["service_url"]:
        client = ServiceClient(opts["service_url"], opts["api_key"] or None)
        sink = ServiceSink(client)
    elif opts["out"]:
        sink = JsonlSink(Path(opts["out"]) / "runs.jsonl")
    try:
        result = train(job, report=make_reporter(opts["progress"]), sink=sink)
    finally:
        if isinstance(sink, ServiceSink):
            sink.flush()
        if client is not None:
            client.close()
    if opts["progress"] != "jsonl":
        click.echo(
            f"{result.run}: {result.status} after {result.tokens:,} tokens, "
            f"val loss {result.final_loss}, {len(result.observations)} observations",
            err=opts["progress"] == "none",
        )
    return 0 if result.status == "finished" else 1


@main.command("plan")
@budget_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan event as JSON.")
def plan_command(as_json: bool, **opts: Any) -> int:
    """Show the sweep a budget buys (shapes, tokens, estimated time); run nothing."""
    from flopwise.trainer.cli_options import sweep_config_from_options
    from flopwise.trainer.sweep import plan_event, prepare

    prepared = prepare(sweep_config_from_options(opts))
    if as_json:
        click.echo(json.dumps(plan_event(prepared)))
    else:
        click.echo(prepared.plan.table())
    return 0


@main.command("sweep")
@budget_options
@sweep_options
def sweep_command(**opts: Any) -> int:
    """Plan a calibration sweep, run it (this host or Slurm), ingest and refit."""
    from flopwise.trainer.cli_options import sweep_config_from_options
    from flopwise.trainer.sweep import execute, make_executor, plan_event, prepare

    if opts["progress"] == "jsonl" and not (opts["yes"] or opts["cancel"]):
        raise click.UsageError("--progress jsonl cannot ask for confirmation; add --yes")
    config = sweep_config_from_options(opts)
    report = make_reporter(opts["progress"])
    prepared = prepare(config)
    if opts["cancel"]:
        ids = make_executor(prepared, config.request).cancel()
        click.echo(f"sweep {prepared.plan.sweep_id}: cancelled {len(ids)} job(s) {' '.join(ids)}")
        return 0
    if opts["resume"] and not prepared.resumed:
        raise ArgumentError("resume", f"no earlier sweep of this request in {prepared.sweep_dir}")
    if opts["progress"] == "jsonl":
        report(plan_event(prepared))
    else:
        click.echo(prepared.plan.table())
    if not opts["yes"] and not click.confirm("Run this sweep?", err=True):
        return 1
    signal.signal(signal.SIGTERM, _terminate)  # stop the trainer processes on the way out
    result = execute(prepared, config, report)
    if opts["progress"] != "jsonl":
        _summary(result)
    ok = result.fit is not None and result.fit.success and not result.outcome.failed
    return 0 if ok else 1


def _terminate(signum: int, frame: object) -> None:
    del frame
    raise SystemExit(128 + signum)


def _summary(result: SweepResult) -> None:
    out = result.outcome
    click.echo(
        f"sweep {result.sweep_id}: {result.finished} runs finished, {len(out.failed)} failed, "
        f"{len(out.skipped)} skipped; {result.observations} observations"
    )
    for run_id, why in out.failed.items():
        click.echo(f"  failed {run_id}: {why}")
    fit = result.fit
    if fit is None:
        click.echo("no observations: nothing to fit")
    elif not fit.success:
        click.echo(f"refit failed ({fit.where}): {fit.message}")
    else:
        constants = ", ".join(f"{k}={v:.4g}" for k, v in (fit.constants or {}).items())
        click.echo(f"law {fit.law_id}@{fit.version} ({fit.where}) {constants}".rstrip())


@main.command("corpus")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for train.bin, val.bin and meta.json.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(exists=True),
    help="Text file or directory (repeatable); default the standard library.",
)
@click.option("--max-bytes", default=16_000_000, show_default=True, type=click.IntRange(1024))
@click.option("--val-fraction", default=0.05, show_default=True, type=float)
@click.option("--docstrings-only", is_flag=True, help="Keep only Python docstrings.")
def corpus_command(
    out: str, sources: tuple[str, ...], max_bytes: int, val_fraction: float, docstrings_only: bool
) -> int:
    """Build a byte-level token corpus from text files (no download)."""
    from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root

    config = CorpusConfig(
        sources=sources or (str(stdlib_root()),),
        max_bytes=max_bytes,
        val_fraction=val_fraction,
        docstrings_only=docstrings_only,
    )
    info = build_corpus(config, out)
    click.echo(
        f"{out}: {info.train_tokens:,} train and {info.val_tokens:,} val tokens "
        f"from {info.documents} documents ({info.tokenizer})"
    )
    return 0
