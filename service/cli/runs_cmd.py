"""``flopwise runs upload``: send a CSV or JSON-lines file of runs to a server, through
the Python client (``flopwise.client``): in batches, resumable, with a progress bar and
a summary of the rows stored and refused.

Exit status: 0 when every row is stored; 1 when the server refused rows (each listed
on stderr by line, column and reason; the others are stored) or could not be reached;
2 for a bad option or file (one line naming it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.tables import MAPPED
from flopwise.protocol.cli import one_line

__all__ = ["runs_group"]

RESUME = (
    "Resumable: the upload first asks the server which (dataset, run, tokens) it already "
    "holds and sends only the other rows, so after an interruption run the same command "
    "again; a row sent twice is stored once (ingestion is idempotent on that key)."
)


@click.group("runs")
def runs_group() -> None:
    """Runs on a flopwise server (``POST /v1/runs``)."""


def _column_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for name in reversed(MAPPED):
        flag = f"--{name.replace('_', '-')}-col"
        command = click.option(
            flag,
            f"{name}_col",
            default=None,
            metavar="COLUMN",
            help=f"Column holding {name} [{name}].",
        )(command)
    return command


@runs_group.command("upload", epilog=RESUME)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dataset", default=None, help="Dataset of every row (else the file's dataset column)."
)
@_column_options
@click.option(
    "--url",
    default=None,
    help="The server [$FLOPWISE_URL, else http://127.0.0.1:8000]; the key is $FLOPWISE_API_KEY.",
)
@click.option("--batch-size", type=click.IntRange(1, 20_000), default=500, show_default=True)
@click.option(
    "--refit/--no-refit", default=True, show_default=True, help="Queue the dataset's refit."
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr."
)
@click.option(
    "--metric-col",
    "metric_cols",
    multiple=True,
    metavar="COLUMN",
    help="A column the runs carry as a named metric (repeat it), e.g. hellaswag_acc.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def upload_command(
    file: Path,
    dataset: str | None,
    url: str | None,
    batch_size: int,
    refit: bool,
    progress: bool,
    as_json: bool,
    metric_cols: tuple[str, ...],
    **cols: str | None,
) -> int:
    """Send the runs in FILE (.csv with a header row, or .jsonl) to a server, BATCH-SIZE
    rows a request; each request is stored whole or not at all. Columns default to the
    field names (run, params, tokens, loss; width, depth, flops, unique_tokens, lr when
    present); seconds_per_step, n_gpus, gpu and epochs are read from columns of those
    names, a run's schedule from a schedule object (JSON lines) or a schedule column
    with peak_lr, warmup_tokens, ... beside it; each --metric-col column becomes a named
    metric; other columns are ignored."""
    from flopwise.client import Client  # the HTTP stack loads only to upload

    columns = {name: cols[f"{name}_col"] for name in MAPPED}
    bar = _Bar(enabled=progress)
    try:
        with Client(url) as client:
            report = client.runs.upload(
                file,
                dataset=dataset,
                columns=columns,
                batch_size=batch_size,
                refit=refit,
                progress=bar.update,
                metrics=metric_cols,
            )
    except Exception as exc:
        bar.close()
        return _failed(exc)
    bar.close()
    return _summary(file, report, as_json)


class _Bar:
    """A tqdm bar on stderr, from the first batch answered (a request refused at once
    leaves only its one line)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled, self.done = enabled, 0
        self.bar: Any = None

    def update(self, done: int, total: int) -> None:
        if not self.enabled or done == 0:  # shown once a batch is answered
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="row", desc="upload", file=sys.stderr)
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _flag(loc: Sequence[str | int]) -> str:
    names = [str(p) for p in loc if not isinstance(p, int) and p not in ("body", "query")]
    if not names:
        return "FILE"
    return f"--{names[-1].replace('_', '-')}"


def _failed(exc: Exception) -> int:
    """A bad option or file: one line naming it (exit 2); no answer: one line (exit 1)."""
    # the client package (httpx) loads only when a command talks to a server
    from flopwise.client.errors import FlopwiseError, RequestRejected, Unauthorized

    where = "flopwise runs upload"
    if isinstance(exc, ArgumentError):
        flag = "FILE" if exc.name == "file" else f"--{exc.name.replace('_', '-')}"
        raise click.UsageError(one_line(f"{flag}: {exc.message}")) from None
    if isinstance(exc, RequestRejected) and not isinstance(exc, Unauthorized) and exc.issues:
        issue = exc.issues[0]
        raise click.UsageError(one_line(f"{_flag(issue.loc)}: {issue.msg}")) from None
    if isinstance(exc, FlopwiseError):
        click.echo(f"{where}: service: {one_line(exc)}", err=True)
        return 1
    raise exc


def _summary(file: Path, report: Any, as_json: bool) -> int:
    rejected = [{"line": r.line, "column": r.column, "reason": r.reason} for r in report.rejected]
    for r in rejected:
        where = f"line {r['line']}" + (f", column {r['column']}" if r["column"] else "")
        click.echo(f"{file}: {where}: {r['reason']}", err=True)
    if as_json:
        out = {
            "rows": report.rows,
            "accepted": report.accepted,
            "inserted": report.inserted,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "rejected_rows": report.rejected_rows,
            "rejected": rejected,
            "refit_jobs": report.refit_jobs,
        }
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(
            f"{file}: {report.rows} rows: {report.accepted} accepted ({report.inserted} new, "
            f"{report.duplicates} duplicates, {report.skipped} already stored, not sent), "
            f"{report.rejected_rows} rejected"
        )
    return 1 if report.rejected else 0


URL = click.option(
    "--url", default=None, help="The server [FLOPWISE_URL, http://127.0.0.1:8000]; the key "
    "comes from FLOPWISE_API_KEY."
)  # fmt: skip


def _edit(what: str, url: str | None, call: Callable[[Any], Any]) -> int:
    """Run one edit of a dataset's runs through the client; one line on what it did."""
    from flopwise.client import Client  # the HTTP stack loads only to edit
    from flopwise.client.errors import FlopwiseError, NotFound

    try:
        with Client(url) as client:
            done = call(client)
    except NotFound as exc:
        raise click.UsageError(one_line(exc)) from None
    except FlopwiseError as exc:
        click.echo(f"flopwise runs {what}: service: {one_line(exc)}", err=True)
        return 1
    refit = f"; refit job {done.refit_job} queued" if getattr(done, "refit_job", None) else ""
    if what == "delete":
        click.echo(f"{done.dataset}/{done.run}: {done.deleted} observations deleted{refit}")
    else:
        state = "excluded" if done.restored_at is None else "restored"
        click.echo(f"{done.dataset}/{done.run}: {state} ({done.reason}){refit}")
    return 0


@runs_group.command("exclude")
@click.argument("dataset")
@click.argument("run")
@click.option("--reason", required=True, help="Why (every answer of the refitted law says so).")
@URL
def exclude_command(dataset: str, run: str, reason: str, url: str | None) -> int:
    """Leave RUN of DATASET out of its fits (its observations stay); a refit is queued."""
    return _edit("exclude", url, lambda c: c.runs.exclude(dataset, run, reason))


@runs_group.command("restore")
@click.argument("dataset")
@click.argument("run")
@URL
def restore_command(dataset: str, run: str, url: str | None) -> int:
    """Take an excluded RUN of DATASET back into its fits; a refit is queued."""
    return _edit("restore", url, lambda c: c.runs.restore(dataset, run))


@runs_group.command("delete")
@click.argument("dataset")
@click.argument("run")
@click.option("--yes", is_flag=True, help="Delete without asking (deletion cannot be undone).")
@URL
def delete_command(dataset: str, run: str, yes: bool, url: str | None) -> int:
    """Delete every observation of RUN in DATASET, for good; a refit is queued."""
    if not yes:
        raise click.UsageError("--yes: deleting a run cannot be undone (exclude keeps it)")
    return _edit("delete", url, lambda c: c.runs.delete(dataset, run))
