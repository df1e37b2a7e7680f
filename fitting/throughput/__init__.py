"""Throughput: how fast a shape trains on a GPU, and the answers that need it.

``model`` (seconds per step by shape, GPU count and batch: :class:`ThroughputModel`),
``fit`` (fitting one to measured step times), ``catalogue`` (the built-in models),
``grid`` (every feasible shape with its step time, cached in byte-bounded parts),
``time_optimal`` (the lowest-loss plan for GPU-hours rather than FLOPs), ``critical``
(that plan against the critical batch: GPUs that help, deadlines) and ``overspend``
(what a shape costs against both optima). Import the module you need; this package
imports none of them, so loading a model never loads the fitter.
"""
