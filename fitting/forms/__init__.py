"""Law forms: one module per functional form, and a registry the rest of the code asks.

Each module owns everything about its form (constant names, the formula as one pure
function per equation, its LSE layout for Approach 3, its compute-optimal point, shape
terms, how its bootstrap draws give intervals) as a :class:`LawForm` subclass
registered under the form's name. ``law_form(law)`` returns that object, checking the
law against it the first time (``checked``); predicting, allocating, fitting and
serving call it and never branch on the form themselves. The equations shared by
several forms have modules of their own (``hoffmann``: Chinchilla's Eq. 2 and 4;
``muennighoff``: repeated data).

Built-in forms: ``chinchilla``, ``kaplan``, ``width-depth``, ``width-depth-alt``,
``data-constrained``, ``power-law``, ``tabulated``, ``overtraining``, and the
mixture-of-experts forms ``fine-grained-moe`` and ``moe-sparsity`` (``mixture``: what
they share; ``numeric``: how Approach 3 fits a form without an LSE layout), and the
loss-curve forms ``multi-power`` and ``tissue`` (``curve``: what they share; they
predict a run's loss under its learning-rate schedule). The formula
functions are re-exported here (``forms.chinchilla_loss`` ...).
"""

from flopwise.fitting.forms.base import LawForm, LseSpec, tokens_for
from flopwise.fitting.forms.hoffmann import chinchilla_g, chinchilla_loss, chinchilla_optimal
from flopwise.fitting.forms.muennighoff import (
    data_constrained_loss,
    effective_data,
    effective_params,
    unique_params,
)
from flopwise.fitting.forms.registry import (
    checked,
    draw_constants,
    form_names,
    law_form,
    register,
    unregister,
)

# Built-in forms register themselves on import, in this order.
from flopwise.fitting.forms.chinchilla import Chinchilla  # isort: skip
from flopwise.fitting.forms.kaplan import (  # isort: skip
    PF_DAY,
    kaplan_batch_critical,
    kaplan_loss_cmin,
    kaplan_loss_n,
    kaplan_loss_nd,
    kaplan_n_opt,
)
from flopwise.fitting.forms.width_depth import width_depth_loss  # isort: skip
from flopwise.fitting.forms.width_depth_alt import width_depth_alt_loss  # isort: skip
from flopwise.fitting.forms.data_constrained import DataConstrained  # isort: skip
from flopwise.fitting.forms.allocation_rule import power_law, saturating_power_law  # isort: skip
from flopwise.fitting.forms.tabulated import interpolate_log_log  # isort: skip
from flopwise.fitting.forms.overtraining import (  # isort: skip
    overtraining_loss,
    overtraining_loss_cm,
)
from flopwise.fitting.forms.fine_grained_moe import fine_grained_moe_loss  # isort: skip
from flopwise.fitting.forms.moe_sparsity import moe_sparsity_loss  # isort: skip
from flopwise.fitting.forms.multi_power import loss_reduction, multi_power_loss  # isort: skip
from flopwise.fitting.forms.tissue import (  # isort: skip
    annealing_area,
    annealing_area_steps,
    tissue_loss,
)

__all__ = [
    "PF_DAY",
    "Chinchilla",
    "DataConstrained",
    "LawForm",
    "LseSpec",
    "annealing_area",
    "annealing_area_steps",
    "checked",
    "chinchilla_g",
    "chinchilla_loss",
    "chinchilla_optimal",
    "data_constrained_loss",
    "draw_constants",
    "effective_data",
    "effective_params",
    "fine_grained_moe_loss",
    "form_names",
    "interpolate_log_log",
    "kaplan_batch_critical",
    "kaplan_loss_cmin",
    "kaplan_loss_n",
    "kaplan_loss_nd",
    "kaplan_n_opt",
    "law_form",
    "loss_reduction",
    "moe_sparsity_loss",
    "multi_power_loss",
    "overtraining_loss",
    "overtraining_loss_cm",
    "power_law",
    "register",
    "saturating_power_law",
    "tissue_loss",
    "tokens_for",
    "unique_params",
    "unregister",
    "width_depth_alt_loss",
    "width_depth_loss",
]
