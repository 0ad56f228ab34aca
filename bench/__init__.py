"""Benchmarks: each module prints one JSON object and exposes `main(argv) -> dict`
so tests can run it with tiny parameters (DESIGN §12)."""
