"""What a section is: its text's words, type (offline rules), language (an offline detector), and an extractive
summary. Plain functions; tasks/split/job.py runs them as a task per section."""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel

SectionType = Literal["invoice", "receipt", "letter", "form", "report", "table-heavy", "text", "empty"]
SummaryLength = Literal["short", "long"]
SUMMARY_SENTENCES: dict[str, int] = {"short": 2, "long": 5}
SUMMARY_MAX_CHARS = 600
MIN_LANGUAGE_LETTERS = 20
MIN_LANGUAGE_CONFIDENCE = 0.5

# Each type's cues (several languages: the bundled invoices are English, Dutch and German). A type is chosen when
# at least MIN_CUES of its cues occur; the type with the most cues wins (ties: the order here).
TYPE_CUES: dict[str, list[str]] = {
    "invoice": [r"\binvoice\b", r"\bfactuur", r"\brechnung", r"\bfacture\b", r"\bfactura\b", r"\bbill(ed)? to\b",
                r"\b(invoice|factuur|rechnungs?)[ -]?(no|nr|number|nummer|datum|date)\b", r"\b(vat|btw|ust|mwst)\b",
                r"\bdue date\b|\bpayment terms\b|\bvervaldatum\b|\bzahlbar\b", r"\bsubtotal\b|\bsubtotaal\b",
                r"\btax invoice\b", r"\bamount due\b|\btotal due\b|\bte betalen\b"],
    "receipt": [r"\breceipt\b", r"\bcash\b", r"\bchange\b", r"\bthank you\b", r"\btendered\b", r"\bgst\b",
                r"\bqty\b", r"\bcashier\b", r"\brounding\b", r"\btotal\b"],
    "letter": [r"^\s*dear\b", r"\bsincerely\b", r"\byours (truly|faithfully|sincerely)\b", r"\b(kind )?regards\b",
               r"\bsehr geehrte", r"\bgeachte\b", r"\bmet vriendelijke groet", r"\bmit freundlichen grüßen",
               r"^\s*re:\s", r"\benc(losure|l)\.?\b"],
    "form": [r"\bsignature\b", r"\bplease (print|complete|fill)\b", r"[☐☑☒□■]", r"_{5,}", r"\bdate of birth\b",
             r"\bapplicant\b", r"\bcheck (one|all that apply)\b", r"\bform\b"],
    "report": [r"\babstract\b", r"\bintroduction\b", r"\bconclusions?\b", r"\breferences\b", r"\bchapter\b",
               r"\b(table of )?contents\b", r"\bfigure \d", r"\btable \d", r"\bappendix\b", r"\bsummary\b"],
}
MIN_CUES = 2
_COMPILED = {kind: [re.compile(cue, re.IGNORECASE | re.MULTILINE) for cue in cues] for kind, cues in TYPE_CUES.items()}
_WORD = re.compile(r"[^\W\d_]{4,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}|\n(?=[A-Z•\-])")


class SectionContent(BaseModel):
    text: str
    word_count: int
    section_type: SectionType
    language: str | None
    """ISO 639-1 code (e.g. 'en', 'nl'); None when the text is too short or the detector is unsure."""
    summary: str
    has_tables: bool
    has_images: bool


def section_content(page_texts: list[str], table_pages: int, image_pages: int, num_pages: int,
                    summary_length: SummaryLength = "short") -> SectionContent:
    """A section's metadata from its pages' texts (in order) and how many of its pages have tables or images."""
    text = "\n\n".join(t.strip() for t in page_texts if t and t.strip())
    words = len(text.split())
    return SectionContent(text=text, word_count=words,
                          section_type=section_type(text, words, table_pages, num_pages),
                          language=detect_language(text), summary=summarise(text, summary_length),
                          has_tables=table_pages > 0, has_images=image_pages > 0)


def type_scores(text: str) -> dict[str, int]:
    """How many of each type's cues the text has."""
    return {kind: sum(1 for cue in cues if cue.search(text)) for kind, cues in _COMPILED.items()}


def section_type(text: str, word_count: int, table_pages: int, num_pages: int) -> SectionType:
    """The section's kind by offline rules: the type whose cues occur most (at least MIN_CUES), else table-heavy
    when most pages have tables, else text (or empty)."""
    if word_count == 0:
        return "empty"
    scores = type_scores(text)
    best = max(scores, key=lambda kind: scores[kind])  # first of the ties, in TYPE_CUES order
    if scores[best] >= MIN_CUES:
        return best  # type: ignore[return-value]
    if num_pages and table_pages / num_pages >= 0.5:
        return "table-heavy"
    return "text"


@lru_cache(maxsize=1)
def _detector():
    """Lingua's detector over all its languages (low-accuracy mode: ~150 MB, enough for whole sections)."""
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_language(text: str, max_chars: int = 3000) -> str | None:
    """The text's language as an ISO 639-1 code, by Lingua (offline); None for too little text or a guess below
    MIN_LANGUAGE_CONFIDENCE."""
    sample = text[:max_chars]
    if sum(ch.isalpha() for ch in sample) < MIN_LANGUAGE_LETTERS:
        return None
    values = _detector().compute_language_confidence_values(sample)
    if not values or values[0].value < MIN_LANGUAGE_CONFIDENCE:
        return None
    return values[0].language.iso_code_639_1.name.lower()


def sentences(text: str) -> list[str]:
    """Candidate sentences: sentence-ending punctuation or line breaks before a capital split them; fragments of
    fewer than 5 words or mostly non-letters are not sentences."""
    candidates = (" ".join(part.split()) for part in _SENTENCE_END.split(text))
    return [s for s in candidates if 5 <= len(s.split()) <= 80
            and sum(ch.isalpha() for ch in s) >= 0.6 * len(s.replace(" ", ""))]


def summarise(text: str, length: SummaryLength = "short") -> str:
    """An extractive summary: the sentences whose words are most frequent in the section (Luhn's idea: words of
    4+ letters, counted over the section), in their original order. A section with no sentence gets its first
    lines."""
    found = sentences(text)
    ended = [s for s in found if s[-1] in ".!?"]
    found = ended or found  # headings and table rows only where the section has no real sentence
    if not found:
        lines = [" ".join(line.split()) for line in text.splitlines() if any(ch.isalpha() for ch in line)]
        return " · ".join(lines[:3])[:SUMMARY_MAX_CHARS]
    frequency = Counter(word.lower() for word in _WORD.findall(text))
    top = max(frequency.values(), default=1)

    def score(sentence: str) -> float:
        words = [word.lower() for word in _WORD.findall(sentence)]
        return sum(frequency[w] / top for w in words) / (len(words) ** 0.5) if words else 0.0

    best = sorted(range(len(found)), key=lambda i: -score(found[i]))[:SUMMARY_SENTENCES[length]]
    return " ".join(found[i] for i in sorted(best))[:SUMMARY_MAX_CHARS]
