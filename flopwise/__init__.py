"""flopwise: given this compute, what should I train?

The repository keeps its three packages at its top level (``fitting/``, ``service/``,
``trainer/``); they are imported as ``flopwise.fitting``, ``flopwise.service`` and
``flopwise.trainer`` (this folder links to them) so that an installed flopwise never
collides with another distribution's ``fitting`` or ``service``.

* ``flopwise.fitting``  laws, counting, allocation and the fit engine (numpy and scipy only).
* ``flopwise.service``  the REST service, its store and job queue, and the ``flopwise`` CLI.
* ``flopwise.trainer``  calibration training runs and sweeps (PyTorch, the ``[train]`` extra).
"""

__version__ = "0.1.0"
