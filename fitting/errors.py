"""The errors ``fitting`` raises, as a small typed tree::

    ValueError
    └── ArgumentError        a bad argument; ``.name`` says which one

Callers (the service, the CLI) branch on the type and read ``name`` to say which field
or flag was wrong; nothing parses the message text.
"""

from __future__ import annotations

__all__ = ["ArgumentError"]


class ArgumentError(ValueError):
    """A bad argument to a public ``fitting`` function.

    ``name`` is the argument's name as the function spells it (``"flops"``,
    ``"runs"``, ``"options.tie"``); ``message`` is the reason, in words, and the
    exception's text is ``"<name>: <message>"``.

    >>> err = ArgumentError("flops", "must be a positive finite number, got -1")
    >>> (err.name, str(err))
    ('flops', 'flops: must be a positive finite number, got -1')
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
