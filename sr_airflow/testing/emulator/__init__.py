"""A StarRocks frontend emulator speaking the MySQL protocol, for tests, benchmarks and demos.

Start it with `python -m sr_airflow.testing.emulator` or, from Python, `process.EmulatorServer`. See
docs/emulator.md. It imports nothing from the product packages.
"""
