"""``flopwise laws`` and ``flopwise throughput``: the built-in catalogues, offline."""

from __future__ import annotations

import json

import click

from flopwise.fitting.catalogue import BUILTIN_LAWS, DEFAULT_LAW
from flopwise.fitting.throughput.catalogue import builtin_throughputs
from flopwise.fitting.throughput.model import to_dict

__all__ = ["laws_command", "throughput_command"]


@click.command("laws")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def laws_command(as_json: bool) -> None:
    """List the built-in scaling laws."""
    if as_json:
        payload = [
            {
                "id": law.id,
                "version": law.version,
                "title": law.title,
                "form": str(law.form),
                "n_definition": str(law.n_definition),
                "c_definition": str(law.c_definition),
                "constants": law.constants,
                "source": law.source,
                "citation": law.citation,
            }
            for law in BUILTIN_LAWS.values()
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    for law in BUILTIN_LAWS.values():
        default = " (default)" if law.id == DEFAULT_LAW else ""
        click.echo(f"{law.id:<26} {law.form!s:<17} N={law.n_definition!s:<14} {law.title}{default}")


@click.command("throughput")
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
def throughput_command(as_json: bool) -> None:
    """List the built-in throughput models (step time by shape, GPU and GPU count)."""
    models = list(builtin_throughputs().values())
    if as_json:
        click.echo(json.dumps([to_dict(m) for m in models], indent=2))
        return
    for m in models:
        w, d = m.domain.width, m.domain.depth
        click.echo(
            f"{m.id:<18} {m.gpu:<10} eta {m.matmul_efficiency:.3f}, half width "
            f"{m.half_width:.0f}; fitted widths {w[0]:.0f}-{w[1]:.0f}, depths {d[0]:.0f}-{d[1]:.0f}"
        )
