"""Benchmarks: documents with known text, degraded scans of them, and the accuracy and speed of the pipeline on them."""
