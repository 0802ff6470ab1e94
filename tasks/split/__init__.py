"""Splitting a document into sections (seed §5): criteria, split points, per-section metadata, output files."""
