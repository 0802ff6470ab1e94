"""Schema-driven field extraction: schema, normalisation and the rules method."""
