"""Benchmarks: reconciler side by side with docker-compose and with the engine's own limit.

Run with `make bench` (or `python -m benchmarks.run --help`). The pure parts (workload
generation, statistics, report rendering, the counting proxy's HTTP framing) are unit-tested
in tests/unit/test_benchmarks.py; everything else talks to the real engine.
"""
