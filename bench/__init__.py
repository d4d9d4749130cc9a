"""Benchmarks run by ``make bench`` (``python -m bench``); each module offers ``run() -> dict``
and ``TARGETS`` mapping a result key to ``(comparison, bound)``, e.g. ``("<=", 3.0)``."""
