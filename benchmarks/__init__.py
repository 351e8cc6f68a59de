"""Benchmarks of the legacy import: `python -m benchmarks` (what `make bench` runs), see __main__.py."""
