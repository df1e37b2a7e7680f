"""How every flopwise command line reports what went wrong; scripts rely on it.

``flopwise ...`` and ``python -m flopwise.trainer ...`` run through :func:`run_cli`:

* a bad option or value, a bad argument to a library function, a request that does
  not validate: one line on stderr, ``<command>: error: <what is wrong>``, exit 2;
* a command given no arguments: its help, as written, on stderr, exit 2 (as click does);
* an operational failure the caller names (a service that cannot be reached, an
  executor that failed): one line, ``<command>: <label>: <what happened>``, exit 1;
* interrupted: ``<command>: aborted``, exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import click
from pydantic import ValidationError

from flopwise.fitting.errors import ArgumentError

__all__ = ["one_line", "run_cli", "validation_message"]


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(str(text).split())


def validation_message(exc: ValidationError) -> str:
    """The first problem of a pydantic error as ``field: message`` (options spelled as
    flags: ``--n-gpus: ...``)."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    flag = f"--{where.replace('_', '-')}" if where else "input"
    return f"{flag}: {one_line(first['msg'])}"


def _command_path(group: click.Group, args: Sequence[str], prog: str) -> str:
    first = next((a for a in args if not a.startswith("-")), None)
    return f"{prog} {first}" if first in group.commands else prog


def run_cli(
    group: click.Group,
    argv: Sequence[str] | None = None,
    *,
    prog: str,
    failures: Mapping[type[BaseException], str] | None = None,
) -> int:
    """Run ``group`` on ``argv`` (default ``sys.argv[1:]``) and return the exit status,
    reporting errors as the module docstring says; ``failures`` maps exception types to
    the label of an exit-1 line."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = _command_path(group, args, prog)
    try:
        result = group.main(args=args, prog_name=prog, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else command
        click.echo(f"{where}: error: {one_line(exc.format_message())}", err=True)
        return 2
    except ArgumentError as exc:
        flag = f"--{exc.name.replace('_', '-').replace('.', '-')}"
        click.echo(f"{command}: error: {flag}: {one_line(exc.message)}", err=True)
        return 2
    except ValidationError as exc:
        click.echo(f"{command}: error: {validation_message(exc)}", err=True)
        return 2
    except (click.Abort, KeyboardInterrupt):
        click.echo(f"{command}: aborted", err=True)
        return 1
    except Exception as exc:
        for kind, label in (failures or {}).items():
            if isinstance(exc, kind):
                click.echo(f"{command}: {label}: {one_line(exc)}", err=True)
                return 1
        if isinstance(exc, ValueError):
            click.echo(f"{command}: error: {one_line(exc)}", err=True)
            return 2
        raise
    return int(result) if isinstance(result, int) else 0
