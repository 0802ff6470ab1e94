"""`docuforge bench tables`: table structure scored against public ground truth.

- tables/pubtabnet: table images with HTML ground truth (gt_teds.json). Score: TEDS, the tree-edit-distance
  similarity of PubTabNet (Zhong et al. 2020), computed by `table_recognition_metric` (IBM's reference code on
  `apted`), plus TEDS-struct (structure only, cell text ignored).
- tables/icdar2013: born-digital PDFs with -str.xml ground truth (cells with row/column and text). Score: the
  ICDAR 2013 table competition's cell-adjacency relations (Göbel et al. 2013): every non-empty cell is related to
  its nearest non-empty neighbour to the right and below; relations are compared as (text, text, direction)
  tuples and give precision, recall and F1. Tables are found by the detector itself (the "complete process"
  track); the relations of all a document's tables are pooled, so no table-to-table matching is needed.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, computed_field

from tasks.tables import Cell

Relation = tuple[str, str, str]
"""(text of a cell, text of its nearest non-empty neighbour, 'H' for right or 'V' for below)."""


# ---- cell adjacency (ICDAR 2013) --------------------------------------------------------------------------------

def normalise_cell_text(text: str) -> str:
    """Case-folded, NFKC, with whitespace removed (the competition compares cell contents ignoring spacing)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    return re.sub(r"\s+", "", text)


def adjacency_relations(cells: Iterable[Cell]) -> Counter[Relation]:
    """The relations of one table: each non-empty cell with the next non-empty cell right of it (per row it
    spans) and below it (per column it spans), skipping empty cells between them."""
    cells = [cell for cell in cells if normalise_cell_text(cell.text)]
    grid: dict[tuple[int, int], int] = {}
    for index, cell in enumerate(cells):
        for r in range(cell.row, cell.row + max(1, cell.row_span)):
            for c in range(cell.col, cell.col + max(1, cell.col_span)):
                grid.setdefault((r, c), index)
    if not grid:
        return Counter()
    max_row = max(r for r, _ in grid)
    max_col = max(c for _, c in grid)
    pairs: set[tuple[int, int, str]] = set()
    for index, cell in enumerate(cells):
        row_end, col_end = cell.row + max(1, cell.row_span), cell.col + max(1, cell.col_span)
        rightwards = [[(r, c) for c in range(col_end, max_col + 1)] for r in range(cell.row, row_end)]
        downwards = [[(r, c) for r in range(row_end, max_row + 1)] for c in range(cell.col, col_end)]
        for direction, rays in (("H", rightwards), ("V", downwards)):
            for ray in rays:
                other = next((grid[p] for p in ray if grid.get(p) is not None and grid[p] != index), None)
                if other is not None:
                    pairs.add((index, other, direction))
    return Counter((normalise_cell_text(cells[a].text), normalise_cell_text(cells[b].text), d) for a, b, d in pairs)


class AdjacencyScore(BaseModel, frozen=True):
    correct: int = 0
    truth: int = 0
    found: int = 0

    def __add__(self, other: AdjacencyScore) -> AdjacencyScore:
        return AdjacencyScore(correct=self.correct + other.correct, truth=self.truth + other.truth,
                              found=self.found + other.found)

    @computed_field
    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else float(self.truth == 0)

    @computed_field
    @property
    def recall(self) -> float:
        return self.correct / self.truth if self.truth else float(self.found == 0)

    @computed_field
    @property
    def f1(self) -> float:
        total = self.truth + self.found
        return 2 * self.correct / total if total else 1.0


def adjacency_score(truth: Counter[Relation], found: Counter[Relation]) -> AdjacencyScore:
    return AdjacencyScore(correct=(truth & found).total(), truth=truth.total(), found=found.total())


def read_icdar_structure(xml_path: str | Path) -> list[tuple[int, list[Cell]]]:
    """The ground-truth tables of an ICDAR 2013 -str.xml file: one (page number, cells) per table region.

    Cell boxes in the file are PDF points with the origin bottom-left; they are not needed for the adjacency
    measure and are left out here.
    """
    root = ET.parse(xml_path).getroot()
    regions = []
    for region in root.iter("region"):
        cells = []
        for cell in region.iter("cell"):
            row, col = int(cell.get("start-row")), int(cell.get("start-col"))
            end_row, end_col = int(cell.get("end-row", row)), int(cell.get("end-col", col))
            content = cell.find("content")
            cells.append(Cell(row=row, col=col, row_span=end_row - row + 1, col_span=end_col - col + 1,
                              text=(content.text or "") if content is not None else ""))
        regions.append((int(region.get("page", "1")), cells))
    return regions


def read_icdar_regions(xml_path: str | Path) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Table regions of an ICDAR 2013 -reg.xml file: (page number, (x0, y0, x1, y1) in PDF points, origin
    bottom-left as in the file)."""
    root = ET.parse(xml_path).getroot()
    found = []
    for region in root.iter("region"):
        box = region.find("bounding-box")
        if box is not None:
            found.append((int(region.get("page", "1")),
                          tuple(float(box.get(k)) for k in ("x1", "y1", "x2", "y2"))))
    return found


# ---- TEDS (PubTabNet) -------------------------------------------------------------------------------------------

def teds(predicted_html: str, truth_html: str, structure_only: bool = False) -> float:
    """Tree-edit-distance similarity of two HTML tables (1 = identical), IBM's reference implementation."""
    from table_recognition_metric import TEDS

    return float(TEDS(structure_only=structure_only)(_document(predicted_html), _document(truth_html)))


def _document(table_html: str) -> str:
    """The metric looks for html/body/table: a bare <table> is wrapped."""
    return table_html if "<body" in table_html else f"<html><body>{table_html}</body></html>"


# ---- the benchmark ---------------------------------------------------------------------------------------------

class TableMeasurement(BaseModel):
    document: str
    dataset: str
    status: str = "ok"
    error: str | None = None
    seconds: float = 0.0
    pages: int = 0
    tables_found: int = 0
    tables_truth: int = 0
    teds: float | None = None
    teds_struct: float | None = None
    adjacency: AdjacencyScore | None = None


class TablesReport(BaseModel):
    directory: str
    documents: list[TableMeasurement]
    summary: dict[str, dict[str, float | int | None]]


def measure_pubtabnet(folder: Path) -> list[TableMeasurement]:
    from tasks.tables import find_tables_image

    truth = json.loads((folder / "gt_teds.json").read_text(encoding="utf-8"))
    rows = []
    for name in sorted(truth):
        image = folder / name
        row = TableMeasurement(document=f"pubtabnet/{name}", dataset="pubtabnet", pages=1, tables_truth=1)
        if not image.is_file():
            rows.append(row.model_copy(update={"status": "error", "error": "image missing"}))
            continue
        started = time.perf_counter()
        try:
            # The images are table crops: the whole image is the table (no detection step).
            tables = find_tables_image(str(image), dpi=None, whole_image=True)
        except Exception as error:  # noqa: BLE001 - one bad document must not stop the benchmark
            rows.append(row.model_copy(update={"status": "error", "error": f"{type(error).__name__}: {error}"}))
            continue
        seconds = time.perf_counter() - started
        html = tables[0].html if tables else ""
        reference = truth[name]["html"]
        rows.append(row.model_copy(update={
            "seconds": seconds, "tables_found": len(tables),
            "teds": teds(html, reference) if html else 0.0,
            "teds_struct": teds(html, reference, structure_only=True) if html else 0.0,
        }))
    return rows


def measure_icdar2013(folder: Path) -> list[TableMeasurement]:
    from tasks.pdfium import pdf_page
    from tasks.tables import find_tables_digital

    rows = []
    for pdf in sorted(folder.glob("*.pdf")):
        structure = folder / f"{pdf.stem}-str.xml"
        if not structure.is_file():
            continue
        truth_regions = read_icdar_structure(structure)
        truth = Counter()
        for _, cells in truth_regions:
            truth += adjacency_relations(cells)
        row = TableMeasurement(document=f"icdar2013/{pdf.name}", dataset="icdar2013", tables_truth=len(truth_regions))
        started = time.perf_counter()
        try:
            with pdf_page(str(pdf), 1) as page:
                n_pages = len(page.pdf)
            found, n_tables = Counter(), 0
            for page_number in range(1, n_pages + 1):
                for table in find_tables_digital(str(pdf), page_number):
                    found += adjacency_relations(table.cells)
                    n_tables += 1
        except Exception as error:  # noqa: BLE001
            rows.append(row.model_copy(update={"status": "error", "error": f"{type(error).__name__}: {error}"}))
            continue
        rows.append(row.model_copy(update={
            "seconds": time.perf_counter() - started, "pages": n_pages, "tables_found": n_tables,
            "adjacency": adjacency_score(truth, found),
        }))
    return rows


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(rows: list[TableMeasurement]) -> dict[str, dict[str, float | int | None]]:
    summary: dict[str, dict[str, float | int | None]] = {}
    for dataset in sorted({row.dataset for row in rows}):
        chosen = [row for row in rows if row.dataset == dataset]
        ok = [row for row in chosen if row.status == "ok"]
        pages = sum(row.pages for row in ok)
        seconds = sum(row.seconds for row in ok)
        entry: dict[str, float | int | None] = {
            "documents": len(chosen), "errors": len(chosen) - len(ok),
            "seconds_per_page": seconds / pages if pages else None,
        }
        if dataset == "pubtabnet":
            # A document that failed scores 0, so errors cannot flatter the mean.
            entry["teds"] = _mean([row.teds or 0.0 for row in chosen])
            entry["teds_struct"] = _mean([row.teds_struct or 0.0 for row in chosen])
        else:
            scores = [row.adjacency or AdjacencyScore() for row in chosen]
            entry["adjacency_f1"] = _mean([s.f1 if row.status == "ok" else 0.0 for s, row in zip(scores, chosen)])
            entry["adjacency_precision"] = _mean([s.precision for s in scores])
            entry["adjacency_recall"] = _mean([s.recall for s in scores])
            pooled = sum(scores, AdjacencyScore())
            entry["adjacency_f1_pooled"] = pooled.f1
        summary[dataset] = entry
    return summary


DATASETS = {"pubtabnet": measure_pubtabnet, "icdar2013": measure_icdar2013}


def run_benchmark(directory: Path) -> TablesReport:
    """DIR is the tables folder (every dataset in it) or one dataset's folder."""
    directory = Path(directory)
    if directory.name in DATASETS:
        chosen = {directory.name: directory}
    else:
        chosen = {name: directory / name for name in DATASETS if (directory / name).is_dir()}
    rows: list[TableMeasurement] = []
    for name, folder in chosen.items():
        rows += DATASETS[name](folder)
    return TablesReport(directory=str(directory), documents=rows, summary=summarise(rows))
