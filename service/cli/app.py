"""The ``flopwise`` command group; commands live in sibling modules and register here.

Errors a user can cause (a bad option, a bad value, an unknown law) print exactly one
line on stderr, ``flopwise <command>: error: <what is wrong>``, and exit with status 2.
"""

from __future__ import annotations

import sys

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="flopwise")
def main() -> None:
    """flopwise: given this compute, what should I train?"""


def fail(message: str) -> click.UsageError:
    """A usage error carrying one line (commands ``raise fail(str(exc))`` on ValueError)."""
    return click.UsageError(" ".join(str(message).split()))


def run(argv: list[str] | None = None) -> int:
    """Console entry point: click without its multi-line usage dumps on errors."""
    args = sys.argv[1:] if argv is None else argv
    try:
        result = main.main(args=args, prog_name="flopwise", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "flopwise"
        message = " ".join(exc.format_message().split())
        click.echo(f"{command}: error: {message}", err=True)
        return 2
    except click.Abort:
        click.echo("flopwise: aborted", err=True)
        return 1
    return int(result) if isinstance(result, int) else 0
