"""Pairs a form gives by its layout alone, with no colon: a number beside the label that starts its row and under
the header of its column (tables of measurements, counts and scores: a cell pairs with both), a number beside
its label ('Tobacco Rod Length   64 mm'), and rows that alternate label and value ('Maker   AMF   Labels   White').
A label may run onto a second line ('STRENGTH' over '(7=Stronger)'); a unit after a number belongs to it."""
from __future__ import annotations

from dataclasses import dataclass, field

from tasks.extract.phrases import label_text, typed_pair
from tasks.extract.rules import CONFIDENCE, FieldResult, Token
from tasks.models import BBox, union

ROW_OVERLAP = 0.7
"""Two phrases share a row when they overlap by this share of the shorter one's height."""
COLUMN_OVERLAP = 0.3
"""A phrase stands over another when they overlap by this share of the narrower one's width."""
LABEL_LETTERS = 0.6
"""A label is mostly letters (of its letters and digits)…"""
MIN_LABEL_LETTERS = 2
MAX_LABEL_WORDS = 6
NUMBER_DIGITS = 0.4
"""…and a number value mostly digits ('84', '24.75', '(224)', '1-502-568', '4.31***', '13.5 %')."""
UNIT_GAP = 0.08
"""How far (a fraction of the page width) a unit ('mm', 'mg/cc', '%') may stand after its number."""
NEXT_LINE = 0.5
"""A label's second line starts within this share of its first line's height under it."""


@dataclass(eq=False)
class Phrase:
    words: list[Token]
    box: BBox = field(init=False)
    text: str = field(init=False)
    page: int = field(init=False)

    def __post_init__(self):
        self.box = union(t.bbox for t in self.words)
        self.text = " ".join(t.text for t in self.words)
        self.page = self.words[0].page_number

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def number(self) -> bool:
        chars = [c for c in self.text if c.isalnum()]
        return bool(chars) and sum(c.isdigit() for c in chars) / len(chars) >= NUMBER_DIGITS

    @property
    def label(self) -> bool:
        chars = [c for c in self.text if c.isalnum()]
        letters = sum(c.isalpha() for c in chars)
        return (bool(chars) and (self.text[0].isalpha() or self.text[0] == "(") and ":" not in self.text
                and len(self.words) <= MAX_LABEL_WORDS and letters >= MIN_LABEL_LETTERS
                and letters / len(chars) >= LABEL_LETTERS)

    @property
    def unit(self) -> bool:
        return (len(self.words) <= 2 and len(self.text) <= 6 and not any(c.isdigit() for c in self.text)
                and (self.text.islower() or self.text == "%"))

    def shares_row(self, other: Phrase) -> bool:
        overlap = min(self.box[3], other.box[3]) - max(self.box[1], other.box[1])
        return self.page == other.page and overlap >= ROW_OVERLAP * min(self.height, other.height)

    def over(self, other: Phrase) -> bool:
        """Whether this phrase stands in the other's column."""
        overlap = min(self.box[2], other.box[2]) - max(self.box[0], other.box[0])
        return self.page == other.page and overlap > COLUMN_OVERLAP * min(self.box[2] - self.box[0],
                                                                          other.box[2] - other.box[0])


def layout_pairs(words: list[list[Token]]) -> list[FieldResult]:
    """The pairs of the phrases given (each a run of words on one line), method 'auto'."""
    phrases = [Phrase(w) for w in words if w]
    rows = {id(p): sorted((q for q in phrases if q.shares_row(p)), key=lambda q: q.box[0]) for p in phrases}
    header_of = {id(p): _column_header(p, phrases) for p in phrases if p.number}
    headers = {id(header) for header in header_of.values() if header is not None}
    found: list[FieldResult] = []
    for value in phrases:
        if value.text.endswith(":"):
            continue
        if value.number:
            found += _number_pairs(value, header_of[id(value)], phrases, rows)
        elif id(value) not in headers:
            found += _alternating_pair(value, rows[id(value)])
    return found


def _number_pairs(value: Phrase, header: Phrase | None, phrases: list[Phrase], rows: dict) -> list[FieldResult]:
    """With the label just left of it; in a table row (more numbers beside it) with the row's first label and with
    its column's header as well; with only the header when nothing labels its row."""
    row = rows[id(value)]
    left = [p for p in row if p.box[2] <= value.box[0] + 0.002 and p is not value]
    right = [p for p in row if p.box[0] >= value.box[2] - 0.002 and p is not value]
    words = value.words + (right[0].words if right and right[0].unit and right[0].box[0] - value.box[2] < UNIT_GAP
                           else [])
    table_row = any(p.number for p in row if p is not value)
    head = None
    if left and left[-1].label:
        head = left[-1]
    elif left and table_row and left[0].label and all(p.number or p.label for p in left):
        head = left[0]
    found = []
    if head is not None:
        found.append(typed_pair(label_text(_whole_label(head, phrases, rows)), words, CONFIDENCE["right"]))
    if (head is None or table_row) and header is not None:
        found.append(typed_pair(label_text(header.words), words, CONFIDENCE["below"]))
    return found


def _column_header(value: Phrase, phrases: list[Phrase]) -> Phrase | None:
    """The first phrase above the value in its column that is not a number or a unit, if it is a label."""
    centre = (value.box[1] + value.box[3]) / 2
    above = sorted((p for p in phrases if p.box[3] <= centre and p.over(value) and not p.shares_row(value)),
                   key=lambda p: -p.box[3])
    header = next((p for p in above if not (p.number or p.unit)), None)
    return header if header is not None and header.label else None


def _whole_label(head: Phrase, phrases: list[Phrase], rows: dict) -> list[Token]:
    """The label's words, with those of the label lines right under it that start no row of their own (a line
    above is more often a heading than the label's start: measured on the tuning forms)."""
    lines = [head]
    while (line := _line_under(head, lines, phrases, rows)) is not None:
        lines.append(line)
    return [word for line in lines for word in line.words]


def _line_under(head: Phrase, lines: list[Phrase], phrases: list[Phrase], rows: dict) -> Phrase | None:
    edge = lines[-1]
    slack = NEXT_LINE * edge.height
    under = [p for p in phrases if p not in lines and p.over(edge) and p.box[1] >= edge.box[3] - slack]
    if not under:
        return None
    nearest = min(under, key=lambda p: p.box[1])
    own_row = any(not q.shares_row(head) for q in rows[id(nearest)] if q is not nearest)
    return nearest if nearest.box[1] - edge.box[3] <= slack and nearest.label and not own_row else None


def _alternating_pair(value: Phrase, row: list[Phrase]) -> list[FieldResult]:
    """A text value (not a column's header) in a row of label, value, label, value…: with the label before it. Two
    phrases both in capitals are taken for two labels (the headings of a boxed form)."""
    at = row.index(value)
    if len(row) % 2 or at % 2 == 0 or not all(p.label for p in row[::2]) or (
            value.text.isupper() and row[at - 1].text.isupper()):
        return []
    return [typed_pair(label_text(row[at - 1].words), value.words, CONFIDENCE["right"])]
