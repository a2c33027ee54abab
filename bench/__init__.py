"""Benchmarks of gatviz: run ``python -m bench --help``."""
