"""Benchmarks of sr_airflow: every performance claim measured beside a baseline in the same run.

``make bench`` (``python -m benchmarks``) writes ``docs/benchmarks.md``; it is not part of ``make test``.
"""
