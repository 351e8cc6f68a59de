"""Benchmarks: `python -m benchmarks.ingest` (what `make bench` runs)."""
