"""How every flopwise command line reports what went wrong; scripts rely on it.

``flopwise ...`` (a click group) and ``python -m flopwise.trainer ...`` (a
:class:`Program`: a parser that click does not drive) run through :func:`run_cli`:

* a bad option or value, a bad argument to a library function, a request that does
  not validate: one line on stderr, ``<command>: error: <what is wrong>``, exit 2;
* a command given no arguments: its help, as written, on stderr, exit 2 (as click does);
* an operational failure the caller names (a service that cannot be reached, an
  executor that failed): one line, ``<command>: <label>: <what happened>``, exit 1;
* interrupted: ``<command>: aborted``, exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

import click
from pydantic import ValidationError

from flopwise.fitting.errors import ArgumentError

__all__ = ["Program", "one_line", "run_cli", "validation_message"]


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(str(text).split())


class Program(Protocol):
    """A command line with subcommands that click does not drive (the trainer's,
    generated from pydantic models). ``main`` raises ``click.UsageError`` for a bad
    command line and returns the exit status; ``help`` is the usage text."""

    @property
    def commands(self) -> Collection[str]:
        """The subcommands' names."""
        ...

    def help(self, prog: str) -> str:
        """The program's usage text, as ``prog`` (what the user typed)."""
        ...

    def main(self, args: list[str], prog: str) -> int:
        """Parse ``args`` and run the command they name."""
        ...


def validation_message(exc: ValidationError, commands: Collection[str] = ()) -> str:
    """The first problem of a pydantic error as ``field: message`` (options spelled as
    flags: ``--n-gpus: ...``); a leading location in ``commands`` (the subcommand whose
    options failed) is left out."""
    first = exc.errors(include_url=False)[0]
    loc = first["loc"][1:] if first["loc"][:1] and first["loc"][0] in commands else first["loc"]
    where = ".".join(str(p) for p in loc)
    flag = f"--{where.replace('_', '-')}" if where else "input"
    return f"{flag}: {one_line(first['msg'])}"


def _command_path(commands: Collection[str], args: Sequence[str], prog: str) -> str:
    first = next((a for a in args if not a.startswith("-")), None)
    return f"{prog} {first}" if first in commands else prog


def _main(program: click.Group | Program, args: list[str], prog: str) -> object:
    if isinstance(program, click.Group):
        return program.main(args=args, prog_name=prog, standalone_mode=False)
    if not args:  # as click does for a group: the help, and a usage error's status
        click.echo(program.help(prog), err=True)
        return 2
    return program.main(args, prog)


def run_cli(
    group: click.Group | Program,
    argv: Sequence[str] | None = None,
    *,
    prog: str,
    failures: Mapping[type[BaseException], str] | None = None,
) -> int:
    """Run ``group`` (a click group or a :class:`Program`) on ``argv`` (default
    ``sys.argv[1:]``) and return the exit status, reporting errors as the module
    docstring says; ``failures`` maps exception types to the label of an exit-1 line."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = _command_path(group.commands, args, prog)
    try:
        result = _main(group, args, prog)
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
        inner = () if isinstance(group, click.Group) else group.commands
        click.echo(f"{command}: error: {validation_message(exc, inner)}", err=True)
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
