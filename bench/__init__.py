"""Benchmark suite for imaplib_c (see bench/README.md and ``python bench/run.py --help``)."""
