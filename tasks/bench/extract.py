"""Field exact match of an extraction against X.json ground truth (a list with one dict of expected fields); line
precision and recall of its arrays of objects (invoice lines), kept apart so the scalar figure stays comparable."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel
from rapidfuzz import fuzz

from tasks.bench.degrade import degrade_pdf
from tasks.extract.normalise import parse_amount, parse_date
from tasks.extract.rules import FieldResult
from tasks.extract.schema import ExtractionSchema, FieldSpec


class FieldScore(BaseModel):
    field_name: str
    expected: str | None
    got: str | None
    match: bool
    similarity: float | None = None
    """Free-text fields: rapidfuzz ratio (0–1) of the compared texts, beside exact match (OCR may drop a comma in
    a long address while reading every word)."""


class LineScore(BaseModel):
    field_name: str
    expected: int
    """Ground-truth lines that give at least one of the schema's sub-fields."""
    got: int
    matched: int
    """Extracted lines equal, on every sub-field the truth line gives, to a truth line (each matched once)."""


class PairScore(BaseModel):
    """A form's key → value pairs (the auto method) against its question → answer truth."""

    expected: int
    got: int
    matched: int


class DocumentScore(BaseModel):
    document: str
    fields: list[FieldScore]
    lines: list[LineScore] = []
    pairs: PairScore | None = None
    error: str | None = None


TRUTH_SUFFIXES = (".json", ".entities.json", ".kv.json")
"""X.json (invoices: a list with one dict of fields), X.entities.json (real receipts, as extract_dev.py writes
them: company, date, address, total as printed) or X.kv.json (real forms: question → answer pairs)."""
PAIR_SIMILARITY = 0.8
"""A pair found matches a truth pair when its label and its value are each at least this similar (rapidfuzz ratio
after case, spaces and the label's trailing colon are dropped): OCR slips and a lost comma still count."""


def comparable(field_type: str, value) -> str | None:
    """A value as compared: amounts as decimals to the cent, dates as ISO dates (a truth written as on the page is
    read day first, as the receipts write them), strings without case, spaces or a leading '#'."""
    if value is None or value == "":
        return None
    text = str(value)
    if field_type in ("money", "number"):
        try:
            return str(Decimal(text).quantize(Decimal("0.01")))
        except InvalidOperation:
            amount = parse_amount(text)
            return str(amount.quantize(Decimal("0.01"))) if amount is not None else text
    if field_type == "date":
        day = parse_date(text, dayfirst=True) or _written_date(text)
        return day.isoformat() if day else text
    if field_type == "enum":
        return text.strip().upper()
    return re.sub(r"\s+", "", text).lstrip("#").casefold()


def _written_date(text: str):
    """Truth dates as some receipts print them: '20180304', '28 MAR 18'."""
    import dateparser

    if re.fullmatch(r"(?:19|20)\d{6}", text.strip()):
        return dateparser.parse(text.strip(), date_formats=["%Y%m%d"]).date()
    parsed = dateparser.parse(text, languages=["en"], settings={"DATE_ORDER": "DMY", "STRICT_PARSING": True})
    return parsed.date() if parsed else None


def truth_path(document: Path) -> Path | None:
    """The document's ground-truth fields file, if it has one."""
    for suffix in TRUTH_SUFFIXES:
        if (path := document.with_suffix(suffix)).exists():
            return path
    return None


def truth_of(document: Path) -> dict | list:
    """The fields to find (a dict), or a form's question → answer pairs (a list of dicts)."""
    path = truth_path(document)
    truth = json.loads(path.read_text(encoding="utf-8"))
    if path.name.endswith(".kv.json"):
        return [pair for pair in truth if pair.get("question") and pair.get("answer")]
    return truth[0] if isinstance(truth, list) else truth


def _pair_text(text: str) -> str:
    """Without case, spaces (the forms' truth is tokenised: '9/ 3/ 92', 'HLB- KS') or a label's final colon."""
    return re.sub(r"\s+", "", text).rstrip(":").casefold()


def _value_ratio(found: FieldResult, answer: str) -> float:
    """How alike a value found and a truth answer are; a typed value (an ISO date, a plain amount) is alike the
    answer that reads as the same date (either way round) or amount."""
    compact = re.sub(r"\s+", "", answer)
    if found.type == "date":
        readings = {parse_date(text, dayfirst=first) for first in (True, False)  # '9/3/92' either way
                    for text in (compact, " ".join(answer.split()))}  # '9/ 3/ 92', 'May 1, 1985'
        if date.fromisoformat(found.value) in readings:
            return 100.0
    if found.type == "money" and comparable("money", compact) == comparable("money", found.value):
        return 100.0
    return fuzz.ratio(_pair_text(found.value), _pair_text(answer))


def score_pairs(truth: list[dict], results: list[FieldResult]) -> PairScore:
    """Pairs found (auto method, with a value) matched one to one with truth pairs, best match first."""
    found = [(_pair_text(re.sub(r" \(\d+\)$", "", r.field_name)), r) for r in results
             if r.method == "auto" and r.value]
    wanted = [(_pair_text(pair["question"]), pair["answer"]) for pair in truth]
    matched, free = 0, list(range(len(wanted)))
    for label, value in found:
        ratios = [(min(fuzz.ratio(label, wanted[i][0]), _value_ratio(value, wanted[i][1])), i) for i in free]
        best = max(ratios, default=(0.0, -1))
        if best[0] >= 100 * PAIR_SIMILARITY:
            free.remove(best[1])
            matched += 1
    return PairScore(expected=len(wanted), got=len(found), matched=matched)


def pair_f1(scores: list[DocumentScore]) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 of the pairs over every form."""
    pairs = [score.pairs for score in scores if score.pairs is not None]
    matched, got, expected = (sum(getattr(p, k) for p in pairs) for k in ("matched", "got", "expected"))
    precision = matched / got if got else None
    recall = matched / expected if expected else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return precision, recall, f1


def score_document(name: str, schema: ExtractionSchema, truth: dict | list, results: list[FieldResult]) -> DocumentScore:
    """One score per scalar schema field that the truth gives a value for; one line score per array field; a form's
    truth (a list of question → answer pairs) scores the auto method's pairs."""
    if isinstance(truth, list):
        return DocumentScore(document=name, fields=[], pairs=score_pairs(truth, results))
    got = {result.field_name: result.value for result in results}
    scores = []
    for spec in schema.fields:
        expected = None if spec.type == "array" else comparable(spec.type, truth.get(spec.name))
        if expected is None:
            continue
        value = comparable(spec.type, got.get(spec.name))
        similarity = fuzz.ratio(expected, value or "") / 100 if spec.type == "string" else None
        scores.append(FieldScore(field_name=spec.name, expected=expected, got=value, match=value == expected,
                                 similarity=similarity))
    lines = [score_lines(spec, truth[spec.name], got.get(spec.name)) for spec in schema.fields
             if spec.type == "array" and isinstance(truth.get(spec.name), list)]
    return DocumentScore(document=name, fields=scores, lines=lines)


def score_lines(spec: FieldSpec, truth_lines: list[dict], value: str | None) -> LineScore:
    """Per-line exact match on the sub-fields each truth line gives, after normalisation."""
    expected = [{sub.name: (sub.type, comparable(sub.type, line[sub.name])) for sub in spec.fields
                 if comparable(sub.type, line.get(sub.name)) is not None} for line in truth_lines]
    expected = [line for line in expected if line]
    got = json.loads(value) if value else []
    matched = 0
    for item in got:
        hit = next((line for line in expected
                    if all(comparable(kind, item.get(name)) == want for name, (kind, want) in line.items())), None)
        if hit is not None:
            expected.remove(hit)
            matched += 1
    return LineScore(field_name=spec.name, expected=matched + len(expected), got=len(got), matched=matched)


def line_match(scores: list[DocumentScore]) -> dict[str, tuple[float | None, float | None]]:
    """(precision, recall) of the lines of each array field over every document."""
    totals: dict[str, list[int]] = {}
    for document in scores:
        for line in document.lines:
            total = totals.setdefault(line.field_name, [0, 0, 0])
            total[0] += line.matched
            total[1] += line.got
            total[2] += line.expected
    return {name: (matched / got if got else None, matched / expected if expected else None)
            for name, (matched, got, expected) in totals.items()}


def exact_match(scores: list[DocumentScore]) -> tuple[dict[str, float], float | None]:
    """Per-field and overall exact match over every scored field of every document."""
    per_field: dict[str, list[bool]] = {}
    for document in scores:
        for field in document.fields:
            per_field.setdefault(field.field_name, []).append(field.match)
    every = [match for matches in per_field.values() for match in matches]
    return ({name: sum(m) / len(m) for name, m in per_field.items()},
            sum(every) / len(every) if every else None)


def mean_similarity(scores: list[DocumentScore]) -> dict[str, float]:
    """The mean similarity of each free-text field over every document."""
    ratios: dict[str, list[float]] = {}
    for document in scores:
        for field in document.fields:
            if field.similarity is not None:
                ratios.setdefault(field.field_name, []).append(field.similarity)
    return {name: sum(values) / len(values) for name, values in ratios.items()}


def render_scans(directory: Path, dpi: int, out_dir: Path) -> list[Path]:
    """Every X.pdf with X.json truth rendered at dpi to an image-only X.clean.pdf (so it takes the OCR path), with
    its truth beside it as X.clean.json."""
    scans = []
    for source in sorted(directory.glob("*.pdf")):
        if source.with_suffix(".json").exists():
            [scan] = degrade_pdf(source, out_dir, ["clean"], dpi=dpi)
            shutil.copyfile(source.with_suffix(".json"), scan.with_suffix(".json"))
            scans.append(scan)
    return scans
