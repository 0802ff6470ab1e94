"""Where a document splits: its structure (page facts, the PDF's outline) → split points → sections (page ranges).

Plain functions over plain values; the Prefect tasks in tasks/split/job.py wrap them.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from tasks.errors import BadInput
from tasks.models import page_spans
from tasks.pdfium import pdf_page
from tasks.split.criteria import SplitCriteria

PDF = "application/pdf"
BLANK_MAX_CHARS = 3
"""A page with at most this many visible characters of text may be blank..."""
BLANK_MAX_INK = 0.003
"""...if at most this share of it is ink (dark pixels), which tells a blank sheet from a picture or a drawing."""
INK_SCALE = 0.5
"""Pages are rendered at 36 dpi (72 × this) to measure their ink."""

# "Page 2 of 5", "Seite 1 von 3", "Pagina 1 van 2", "Página 1 de 4", "Page 1/3", "1 / 3", "Page 4" (no total)
_LABEL_OF = re.compile(
    r"\b(?:page|pg\.?|p\.|seite|pagina|página|pagine|sida|side|strona)\s*(\d{1,4})\s*(?:of|von|van|de|di|av|af|z|/)\s*"
    r"(\d{1,4})\b", re.IGNORECASE)
_LABEL_SLASH = re.compile(r"^\s*-?\s*(\d{1,4})\s*/\s*(\d{1,4})\s*-?\s*$", re.MULTILINE)
# "Seite 2" / "Page 3" alone at the end of a line (a running header or footer), no total
_LABEL_ALONE = re.compile(r"(?:^|\s{2,})(?:page|seite|pagina|página|sida|side|strona)\s+(\d{1,4})\s*$",
                          re.IGNORECASE | re.MULTILINE)


class OutlineEntry(BaseModel):
    level: int
    title: str
    page_number: int


class PageFacts(BaseModel):
    page_number: int
    status: str = "ok"
    visible_chars: int = 0
    ink: float | None = None
    """Share of dark pixels; measured only for pages with (almost) no text."""
    label: tuple[int, int | None] | None = None
    """The page's own numbering, e.g. (1, 3) for 'Page 1 of 3'."""
    has_tables: bool = False
    has_images: bool = False

    @property
    def blank(self) -> bool:
        return (self.status == "ok" and self.visible_chars <= BLANK_MAX_CHARS and self.ink is not None
                and self.ink <= BLANK_MAX_INK)


class Structure(BaseModel):
    num_pages: int
    pages: list[PageFacts]
    outline: list[OutlineEntry] = Field(default_factory=list)


class SplitPoint(BaseModel):
    page_number: int
    reason: str
    score: float = 1.0


class SplitPoints(BaseModel):
    points: list[SplitPoint]
    dropped: dict[int, str] = Field(default_factory=dict)
    """Pages left out of every section, and why (blank, outside the page ranges)."""


class SectionPlan(BaseModel):
    section_index: int
    page_start: int
    page_end: int
    boundary_reason: str
    boundary_score: float = 1.0

    @property
    def pages(self) -> list[int]:
        return list(range(self.page_start, self.page_end + 1))


def read_outline(pdf_path: str) -> list[OutlineEntry]:
    """The PDF's bookmarks, depth first, each with its level (1 = top) and the page it points at; bookmarks that
    point nowhere (or at a missing page) are skipped."""
    from pypdf import PdfReader

    reader = PdfReader(pdf_path)
    try:
        outline = reader.outline
    except Exception as exc:  # noqa: BLE001 - a broken outline is reported as unusable, not as a crash
        raise BadInput(f"the PDF's outline (bookmarks) cannot be read: {exc}") from exc
    return list(_entries(reader, outline, 1))


def _entries(reader, items: list, level: int) -> Iterable[OutlineEntry]:
    for item in items:
        if isinstance(item, list):
            yield from _entries(reader, item, level + 1)
            continue
        try:
            index = reader.get_destination_page_number(item)
        except Exception:  # noqa: BLE001 - a bookmark without a usable destination
            continue
        if index is not None and index >= 0:
            yield OutlineEntry(level=level, title=str(item.title or "").strip(), page_number=index + 1)


def page_label(text: str) -> tuple[int, int | None] | None:
    """The page's own number as printed ('Page 2 of 5' → (2, 5)); None when it prints none."""
    match = _LABEL_OF.search(text) or _LABEL_SLASH.search(text)
    if match is not None:
        number, total = int(match.group(1)), int(match.group(2))
        return (number, total) if 1 <= number <= total else None
    alone = _LABEL_ALONE.search(text)
    return (int(alone.group(1)), None) if alone and int(alone.group(1)) >= 1 else None


def ink_share(pdf_path: str, page_number: int, scale: float = INK_SCALE) -> float:
    """The share of a page's pixels that are dark (rendered small, in grey)."""
    import numpy as np

    with pdf_page(pdf_path, page_number) as page:
        image = page.render(scale=scale, grayscale=True).to_numpy()
    grey = image if image.ndim == 2 else image[..., :3].mean(axis=2)
    return float((grey < 128).mean())


def visible_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isprintable() and not ch.isspace() and ch != "\ufffd")


def page_facts(pdf_path: str, row: dict, table_pages: set[int], image_pages: set[int]) -> PageFacts:
    """One page's facts from its `pages` row (and the pages that have tables or images)."""
    text = row.get("text") or ""
    chars = visible_chars(text)
    number = row["page_number"]
    ink = ink_share(pdf_path, number) if chars <= BLANK_MAX_CHARS and row.get("status") == "ok" else None
    return PageFacts(page_number=number, status=row.get("status") or "ok", visible_chars=chars, ink=ink,
                     label=page_label(text), has_tables=number in table_pages, has_images=number in image_pages)


def analyse_structure(pdf_path: str, num_pages: int, page_rows: list[dict], table_pages: set[int],
                      image_pages: set[int], with_outline: bool) -> Structure:
    """Every page's facts (a page without a row counts as failed) and, when wanted, the outline."""
    rows = {row["page_number"]: row for row in page_rows}
    pages = [page_facts(pdf_path, rows[n], table_pages, image_pages) if n in rows
             else PageFacts(page_number=n, status="failed") for n in range(1, num_pages + 1)]
    return Structure(num_pages=num_pages, pages=pages, outline=read_outline(pdf_path) if with_outline else [])


def check_criteria(criteria: SplitCriteria, mime_type: str, num_pages: int, pdf_path: str) -> None:
    """Whether the criteria can split this document at all; BadInput says why not."""
    if mime_type != PDF:
        raise BadInput(f"split needs a PDF; this document is {mime_type}")
    if criteria.page_ranges:
        page_ranges(criteria.page_ranges, num_pages)
    if criteria.outline_level and not read_outline(pdf_path):
        raise BadInput("split by outline: this PDF has no outline (bookmarks)")


def page_ranges(spec: str, num_pages: int) -> list[tuple[int, int]]:
    """'1-3,4-9' → [(1, 3), (4, 9)]; BadInput when malformed, overlapping or past the last page."""
    try:
        ranges = page_spans(spec)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    if any(last > num_pages for _, last in ranges):
        raise BadInput(f"page ranges {spec!r} go past the last page ({num_pages})")
    ordered = sorted(ranges)
    for (_, end_a), (start_b, _) in zip(ordered, ordered[1:]):
        if start_b <= end_a:
            raise BadInput(f"page ranges overlap in {spec!r}")
    return ordered


def identify_split_points(structure: Structure, criteria: SplitCriteria) -> SplitPoints:
    """Each criterion's split points (a page that starts a section, and why) and the pages left out."""
    points = [SplitPoint(page_number=1, reason="start")]
    dropped: dict[int, str] = {}
    n = structure.num_pages
    if criteria.page_ranges:
        ranges = page_ranges(criteria.page_ranges, n)
        points += [SplitPoint(page_number=first, reason=f"pages {first}-{last}") for first, last in ranges]
        inside = {p for first, last in ranges for p in range(first, last + 1)}
        dropped |= {p: "outside the page ranges" for p in range(1, n + 1) if p not in inside}
    if criteria.every_pages:
        points += [SplitPoint(page_number=p, reason=f"every {criteria.every_pages} pages")
                   for p in range(1 + criteria.every_pages, n + 1, criteria.every_pages)]
    if criteria.outline_level:
        points += [SplitPoint(page_number=entry.page_number, reason=f"outline: {entry.title}"[:200])
                   for entry in structure.outline if entry.level <= criteria.outline_level and entry.page_number <= n]
    if criteria.documents:
        points += document_starts(structure.pages)
    if criteria.blank_pages:
        dropped |= {page.page_number: "blank" for page in structure.pages
                    if page.blank and page.page_number not in dropped}
    return SplitPoints(points=_first_per_page(points), dropped=dropped)


def document_starts(pages: list[PageFacts]) -> list[SplitPoint]:
    """Pages where a bundle's next document starts: the printed numbering restarts at 1 ('Page 1 of 2' after
    'Page 3 of 3'), or a numbered page follows one whose numbering was complete."""
    points, previous = [], None
    for page in pages:
        label = page.label
        if label is not None and previous is not None:
            if label[0] == 1:
                points.append(SplitPoint(page_number=page.page_number, score=1.0 if label[1] else 0.8,
                                         reason=f"page numbering restarts ({_label_text(label)})"))
            elif previous[1] is not None and previous[0] == previous[1] and label[0] != previous[0] + 1:
                points.append(SplitPoint(page_number=page.page_number, score=0.7,
                                         reason=f"previous numbering ended ({_label_text(previous)})"))
        elif label is not None and label[0] == 1 and page.page_number > 1:
            points.append(SplitPoint(page_number=page.page_number, score=0.8,
                                     reason=f"page numbering starts ({_label_text(label)})"))
        if label is not None:
            previous = label
    return points


def _label_text(label: tuple[int, int | None]) -> str:
    return f"page {label[0]} of {label[1]}" if label[1] else f"page {label[0]}"


def _first_per_page(points: list[SplitPoint]) -> list[SplitPoint]:
    """One point per page (in page order), its reasons joined; its score the highest of them."""
    by_page: dict[int, SplitPoint] = {}
    for point in points:
        kept = by_page.get(point.page_number)
        if kept is None:
            by_page[point.page_number] = point.model_copy()
        elif point.reason not in kept.reason.split("; "):
            kept.reason = f"{kept.reason}; {point.reason}"
            kept.score = max(kept.score, point.score)
    return [by_page[page] for page in sorted(by_page)]


def split_into_sections(structure: Structure, split: SplitPoints, criteria: SplitCriteria) -> list[SectionPlan]:
    """The pages between split points as sections (contiguous page ranges), left-out pages ending a section and
    belonging to none, sections longer than max_pages cut."""
    starts = {point.page_number: point for point in split.points}
    sections: list[SectionPlan] = []
    current: SectionPlan | None = None
    after_drop: str | None = None
    for page in range(1, structure.num_pages + 1):
        if page in split.dropped:
            if current is not None:
                sections.append(current)
                current = None
            after_drop = split.dropped[page]
            continue
        point = starts.get(page)
        too_long = current is not None and criteria.max_pages and page - current.page_start >= criteria.max_pages
        if current is None or point is not None or too_long:
            if current is not None:
                sections.append(current)
            reason, score = _boundary(point, after_drop, bool(too_long and point is None))
            current = SectionPlan(section_index=len(sections), page_start=page, page_end=page,
                                  boundary_reason=reason, boundary_score=score)
            after_drop = None
        else:
            current.page_end = page
    if current is not None:
        sections.append(current)
    return sections


def _boundary(point: SplitPoint | None, after_drop: str | None, cut: bool) -> tuple[str, float]:
    if point is not None and point.reason != "start":
        return point.reason, point.score
    if cut:
        return "max pages", 1.0
    if after_drop is not None:
        return f"after {after_drop} page(s)", 1.0
    return "start", 1.0
