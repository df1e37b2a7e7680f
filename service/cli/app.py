"""The ``flopwise`` command group; commands live in sibling modules and register here."""

from __future__ import annotations

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="flopwise")
def main() -> None:
    """flopwise: given this compute, what should I train?"""
