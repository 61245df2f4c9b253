"""Helpers the test packages share: plain modules, no tests and no fixtures (those live in the conftest.py files).
A test module imports from here, never from another test module or from a conftest."""
