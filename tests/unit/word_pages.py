"""Pages of words laid out from text rows, for the extraction tests."""
from __future__ import annotations

from tasks.extract.rules import Token


def page(*rows: str, page_number: int = 1) -> list[Token]:
    """Words laid out as written: each row is a line, runs of 3+ spaces are column gaps (1 char = 0.01 wide)."""
    tokens = []
    for line_id, row in enumerate(rows):
        y = 0.05 + 0.03 * line_id
        position = 0
        for part in row.split(" "):
            if part:
                tokens.append(Token(text=part, bbox=(position * 0.01, y, (position + len(part)) * 0.01, y + 0.015),
                                    page_number=page_number, line=(page_number, 0, line_id)))
            position += len(part) + 1
    return tokens
