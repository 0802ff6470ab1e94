"""Arrays of objects such as invoice lines: the rows under a header row whose words name the sub-fields, each cell
typed and normalised like a top-level field, read until a total line or a gap."""
from __future__ import annotations

import json
import re
from typing import NamedTuple

from tasks.extract.rules import ROW_GAP, FieldResult, Token, labels, values_in
from tasks.extract.schema import FieldSpec
from tasks.models import BBox, union

END_OF_ROWS = re.compile(r"^(total|totaal|summe|gesamt|montant|importe|exclusief|netto|net\s+total|tax|vat|btw|"
                         r"mwst|ust)\b", re.IGNORECASE)
"""The first words of the line that ends the rows (the total, the taxes)."""
SUBTOTAL = re.compile(r"^(sub\s?-?total|subtotaal|zwischensumme)\b", re.IGNORECASE)
"""A subtotal between groups of rows: not an item, and the rows go on."""
MAX_ROW_GAP = 4
"""A vertical gap, in header heights, that ends the rows."""
CONFIDENCE = 0.85


class Column(NamedTuple):
    x0: float
    x1: float
    spec: FieldSpec | None
    """The sub-field the column holds; None for a column the schema does not ask for."""


def extract_array(spec: FieldSpec, tokens: list[Token], tables: list[dict] | None = None) -> FieldResult:
    """The array field's objects, from the words under a header row that names the sub-fields, else from a detected
    table (rows of the `tables` dataset) whose first row does (the words come first: on the invoices, detected
    tables merge rows and drop columns more often). value: the JSON list; citation: the rows (or the table) on the
    header's page."""
    items, citation = _from_words(spec, tokens)
    for table in tables or []:
        if items:
            break
        items, citation = _from_table(spec, table), _table_citation(table)
    return _array_result(spec, items, citation)


def _array_result(spec: FieldSpec, items: list[dict], citation: tuple[int, BBox] | None) -> FieldResult:
    result = FieldResult(field_name=spec.name, type="array", method="regex")
    if not items:
        result.valid = not spec.required
        result.error = (f"no rows under a header naming {', '.join(f.name for f in spec.fields)}" if spec.fields
                        else "an array field needs sub-fields")
        return result
    filled = sum(value is not None for item in items for value in item.values()) / (len(items) * len(spec.fields))
    result.value = json.dumps(items, ensure_ascii=False)
    result.confidence = round(CONFIDENCE * filled, 3)
    result.page_number, result.bbox = citation
    return result


def _from_words(spec: FieldSpec, tokens: list[Token]) -> tuple[list[dict], tuple[int, BBox] | None]:
    rows = rows_of(tokens)
    for index, row in enumerate(rows):
        columns = header_columns(spec, row)
        if columns is None:
            continue
        items, used = [], []
        for data_row in data_rows(rows[index + 1:], row):
            item = {sub.name: None for sub in spec.fields}
            for column_index, words in cells_of(data_row, columns).items():
                if (sub := columns[column_index].spec) is not None:
                    item[sub.name] = _value(sub, words)
            if _is_item(spec, item):
                items.append(item)
                used += data_row
        if items:
            page = row[0].page_number
            return items, (page, union(t.bbox for t in used + row if t.page_number == page))
    return [], None


def rows_of(tokens: list[Token]) -> list[list[Token]]:
    """The words in rows across the page (words whose middles lie within the first word's height), top to bottom,
    each left to right: a table row even where OCR or the text layer cut it into several lines."""
    rows: list[list[Token]] = []
    for token in sorted(tokens, key=lambda t: (t.page_number, t.yc, t.bbox[0])):
        first = rows[-1][0] if rows else None
        if first and first.page_number == token.page_number and first.bbox[1] <= token.yc <= first.bbox[3]:
            rows[-1].append(token)
        else:
            rows.append([token])
    return [sorted(row, key=lambda t: t.bbox[0]) for row in rows]


def header_columns(spec: FieldSpec, row: list[Token]) -> list[Column] | None:
    """The row's columns if its words name at least two of the sub-fields (one if there is only one). Each sub-field
    takes its longest, most telling hint, with the header words that follow it closely ('Prijs incl.' + 'BTW');
    the other words of the row are columns of their own, split where the gap between words is wider than ROW_GAP."""
    found = [(len(span), hint_index, sub, span) for sub in spec.fields
             for hint_index, span in labels(sub.hints or [sub.name.replace("_", " ")], row)]
    starts: dict[int, FieldSpec] = {}
    taken: set[int] = set()
    for _, _, sub, span in sorted(found, key=lambda f: (-f[0], f[1])):
        if sub not in starts.values() and not taken & {id(t) for t in span}:
            starts[id(span[0])] = sub
            taken |= {id(t) for t in span}
    if len(starts) < min(2, len(spec.fields)):
        return None
    columns: list[Column] = []
    for previous, token in zip([None, *row], row):
        if previous is None or id(token) in starts or _gap(previous, token) > ROW_GAP \
                or id(token) in taken and id(previous) not in taken:
            columns.append(Column(token.bbox[0], token.bbox[2], starts.get(id(token))))
        else:
            columns[-1] = columns[-1]._replace(x1=token.bbox[2])
    return columns


def data_rows(rows: list[list[Token]], header: list[Token]):
    """The rows under the header on its page, up to a total line or a gap of MAX_ROW_GAP header heights; subtotal
    lines are passed over."""
    height = max(t.bbox[3] - t.bbox[1] for t in header)
    bottom = max(t.bbox[3] for t in header)
    for row in rows:
        top = min(t.bbox[1] for t in row)
        if row[0].page_number != header[0].page_number or top - bottom > MAX_ROW_GAP * height \
                or END_OF_ROWS.match(" ".join(t.text for t in row)):
            return
        bottom = max(t.bbox[3] for t in row)
        if not SUBTOTAL.match(row[0].text):
            yield row


def cells_of(row: list[Token], columns: list[Column]) -> dict[int, list[Token]]:
    """A data row's words by column index: a word under a header goes to the column it overlaps most; a word under
    none goes with the nearest word of its phrase that is under one (a long description runs past its header),
    else to the column whose zone (halfway to the neighbouring headers) holds its middle."""
    owners = [_overlapping(token, columns) for token in row]
    cells: dict[int, list[Token]] = {}
    for index, token in enumerate(row):
        owner = owners[index]
        for step in (-1, 1):
            at = index
            while owner is None and 0 <= at + step < len(row) and _gap(*sorted((row[at], row[at + step]),
                                                                              key=lambda t: t.bbox[0])) <= ROW_GAP:
                at += step
                owner = owners[at]
        cells.setdefault(_zone(token, columns) if owner is None else owner, []).append(token)
    return cells


def _gap(left: Token, right: Token) -> float:
    return right.bbox[0] - left.bbox[2]


def _overlapping(token: Token, columns: list[Column]) -> int | None:
    overlaps = [min(c.x1, token.bbox[2]) - max(c.x0, token.bbox[0]) for c in columns]
    best = max(range(len(columns)), key=overlaps.__getitem__)
    return best if overlaps[best] > 0 else None


def _zone(token: Token, columns: list[Column]) -> int:
    middle = (token.bbox[0] + token.bbox[2]) / 2
    return next((index for index, (column, following) in enumerate(zip(columns, columns[1:]))
                 if middle < (column.x1 + following.x0) / 2), len(columns) - 1)


def _value(sub: FieldSpec, cell: list[Token]) -> str | None:
    if not cell:
        return None
    if sub.type == "string" and not sub.pattern:
        return " ".join(t.text for t in cell)
    found = values_in(sub, cell, anchored=False)
    return found[0].value if found else None


def _is_item(spec: FieldSpec, item: dict) -> bool:
    """A row with a sum in a money column (else a number in a number column, else any value): a section title, a
    note or a bundle's part between the rows is not an item."""
    kinds = {sub.type for sub in spec.fields}
    wanted = next((kind for kind in ("money", "number") if kind in kinds), None)
    return any(item[sub.name] is not None for sub in spec.fields if wanted is None or sub.type == wanted)


def _from_table(spec: FieldSpec, table: dict) -> list[dict]:
    """The objects of a detected table whose first row names the sub-fields (cells carry no boxes: each column is
    laid out as one unit of width so the header words can be matched like words on a page)."""
    grid: dict[int, dict[int, str]] = {}
    for cell in table.get("cells") or []:
        grid.setdefault(cell["row"], {})[cell["col"]] = cell["text"] or ""
    if not grid or not spec.fields:
        return []
    page = table["page_number"]

    def words(text: str, col: int = 0) -> list[Token]:
        return [Token(text=word, bbox=(col, 0, col + 0.5, 1), page_number=page, line=(page, 0, 0))
                for word in text.split()]

    first, *body = sorted(grid)
    columns = header_columns(spec, [t for col, text in sorted(grid[first].items()) for t in words(text, col)])
    if columns is None:
        return []
    named = {round(c.x0): c.spec for c in columns if c.spec is not None}
    items = []
    for row in body:
        text = " ".join(grid[row].values()).strip()
        if END_OF_ROWS.match(text):
            break
        if SUBTOTAL.match(text):
            continue
        item = {sub.name: None for sub in spec.fields}
        for col, cell_text in grid[row].items():
            if (sub := named.get(col)) is not None:
                item[sub.name] = _value(sub, words(cell_text))
        if _is_item(spec, item):
            items.append(item)
    return items


def _table_citation(table: dict) -> tuple[int, BBox]:
    box = table["bbox"]
    return table["page_number"], (box["x0"], box["y0"], box["x1"], box["y1"])
