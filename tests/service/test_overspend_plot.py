"""The overspend picture draws at most ``MAX_CELLS`` shapes (issue 24): a fitted law's
family may make widths as fine as one channel, and a render's memory grows with them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.service.errors import FieldError
from flopwise.service.overspend_plot import MAX_CELLS, PlotQuery, render_overspend

GEMSTONES = builtin("gemstones-2025")
MI250X = builtin_throughput("gemstones-mi250x")


def test_a_picture_of_too_many_shapes_is_refused_before_anything_is_computed() -> None:
    fine = replace(GEMSTONES, family=replace(GEMSTONES.family, head_dim=8, kv_group=1))
    query = PlotQuery(fine.id, MI250X.ref, 3.2, 64, max_width=16384, max_depth=256)
    with pytest.raises(FieldError) as err:
        render_overspend(fine, MI250X, query)
    assert err.value.loc == ("query", "max_width")
    assert str(MAX_CELLS) in err.value.message


def test_the_widest_default_picture_is_drawn() -> None:
    query = PlotQuery(GEMSTONES.id, MI250X.ref, 3.2, 64, max_width=16384, max_depth=256)
    png = render_overspend(GEMSTONES, MI250X, query)  # 64 widths x 255 depths
    assert png.startswith(b"\x89PNG")
