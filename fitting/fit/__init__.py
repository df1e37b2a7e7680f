"""Fitting engine: turn training runs into a :class:`~fitting.laws.Law`.

CONTRACT (the service's refit worker and the trainer call exactly this):

    from fitting.fit import fit, FitReport
    report = fit(runs, form="chinchilla", method="approach3", law_id="my-data-chinchilla",
                 delta=1e-3, bootstrap=0, seed=0, **options)

``runs`` is a :class:`fitting.runs.Runs`. ``report`` is a frozen :class:`FitReport`:
``success`` (bool), ``message`` (str), ``law`` (a ``Law`` when success, else ``None``;
its ``id`` is ``law_id`` and ``version`` 1 — the caller re-versions it with
``law.evolve(version=...)``), ``method``, ``form``, ``objective`` (float | None),
``n_runs`` (observations used), ``warnings`` (tuple[str, ...]) and ``diagnostics``
(a JSON-ready dict). Bad input raises ``ValueError`` naming the problem.
"""
