"""The decision rules of SPEC.md ("Rules"): pure functions of plain values, no I/O."""
