"""`make bench`: load tests of the money paths on the production stack (see docs/performance.md).

Nothing here is imported by the application unless settings.BENCH_ENABLED is set
(config/settings_bench.py), which only the benchmark runner does.
"""
