"""Fitting methods: each supplies only its solve step to ``fit.pipeline``.

``approach1`` (envelope), ``approach2`` (isoFLOP profiles), ``approach3`` (parametric,
any form with an LSE layout), ``data_constrained`` (Muennighoff et al.'s decay).
"""
