"""Edits of a read document (issue 15): each a new PDF next to the results and a row in `edits`."""
