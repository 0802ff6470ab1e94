"""Text accuracy: character error rate and an order-insensitive bag-of-words F1, both on normalised text.

A `TextScore` keeps the raw counts, so scores of pages or documents add up to a score weighted by their length.
"""
from __future__ import annotations

import unicodedata
from collections import Counter

from pydantic import BaseModel, computed_field
from rapidfuzz.distance import Levenshtein


TYPOGRAPHIC = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
                             "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})
"""Curly quotes and dashes count as their plain forms: a scan cannot show which one the source used."""

BULLETS = str.maketrans(dict.fromkeys("•◦▪▫‣∙●○■□", " "))
"""List bullets are layout, not text: `pdftotext` writes them apart from their items, so where a truth file has
one depends on the extractor, not on the page."""


def normalise(text: str) -> str:
    """NFKC (ligatures split), typographic quotes and dashes made plain, bullets dropped, case-folded, and every run
    of whitespace made one space with none at either end."""
    text = unicodedata.normalize("NFKC", text).translate(TYPOGRAPHIC).translate(BULLETS)
    return " ".join(text.casefold().split())


class TextScore(BaseModel, frozen=True):
    edits: int = 0
    reference_chars: int = 0
    matched_words: int = 0
    reference_words: int = 0
    hypothesis_words: int = 0

    def __add__(self, other: TextScore) -> TextScore:
        return TextScore(**{name: getattr(self, name) + getattr(other, name) for name in TextScore.model_fields})

    @computed_field
    @property
    def cer(self) -> float:
        """Edits per reference character; with an empty reference, 0 for an empty hypothesis and 1 otherwise."""
        if self.reference_chars == 0:
            return float(self.edits > 0)
        return self.edits / self.reference_chars

    @computed_field
    @property
    def f1(self) -> float:
        if self.reference_words == 0 and self.hypothesis_words == 0:
            return 1.0
        return 2 * self.matched_words / (self.reference_words + self.hypothesis_words)


def score(reference: str, hypothesis: str) -> TextScore:
    reference, hypothesis = normalise(reference), normalise(hypothesis)
    reference_words, hypothesis_words = Counter(reference.split()), Counter(hypothesis.split())
    return TextScore(
        edits=Levenshtein.distance(reference, hypothesis),
        reference_chars=len(reference),
        matched_words=(reference_words & hypothesis_words).total(),
        reference_words=reference_words.total(),
        hypothesis_words=hypothesis_words.total(),
    )


def cer(reference: str, hypothesis: str) -> float:
    return score(reference, hypothesis).cer


def bag_of_words_f1(reference: str, hypothesis: str) -> float:
    return score(reference, hypothesis).f1
