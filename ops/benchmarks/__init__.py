"""Benchmarks run by ``ops/bench <name>``. Each measures the product's way against a baseline in
the same run, in a scratch database, and prints a table followed by one JSON line."""
