"""Confidence-weighted voting across OCR engines that read the same line crop (ROVER-style).

The strongest reading is the pivot. Every other reading is aligned to it character by character, which gives a
confusion network: one slot per pivot character plus an insertion slot before, between and after them. In every
slot each engine votes for what it read there (a character, an inserted string, or nothing) with the score
weight × calibrated confidence, and the best-scoring option wins; ties go to the pivot. So the strong engine
keeps what it reads confidently and is overruled only where the others agree against it with more confidence.

Pure functions: no Prefect, no OCR engines.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, model_validator
from rapidfuzz.distance import Levenshtein

from tasks.models import ENGINE_WEIGHTS
from tasks.ocr.base import LineReading

DEFAULT_WEIGHTS = ENGINE_WEIGHTS
FALLBACK_WEIGHT = 0.2  # an engine nobody weighted counts like the weakest seeded one
NOTHING = ""  # the option "no character here" (a deletion, or no insertion)


class Calibration(BaseModel, frozen=True):
    """Monotone map from an engine's raw confidence to the probability that its reading is correct.

    Piecewise linear through the knots (raw[i], probability[i]); flat beyond the first and last knot.
    """

    raw: list[float] = Field(min_length=1)
    probability: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_knots(self) -> Calibration:
        if len(self.raw) != len(self.probability):
            raise ValueError("raw and probability need the same number of knots")
        if any(b <= a for a, b in zip(self.raw, self.raw[1:])):
            raise ValueError("raw knots must be strictly increasing")
        if any(b < a for a, b in zip(self.probability, self.probability[1:])):
            raise ValueError("probabilities must not decrease")
        if any(not 0.0 <= p <= 1.0 for p in self.probability):
            raise ValueError("probabilities must lie in [0, 1]")
        return self

    def apply(self, raw_confidence: float) -> float:
        xs, ys = self.raw, self.probability
        if raw_confidence <= xs[0]:
            return ys[0]
        if raw_confidence >= xs[-1]:
            return ys[-1]
        right = bisect_right(xs, raw_confidence)
        left = right - 1
        fraction = (raw_confidence - xs[left]) / (xs[right] - xs[left])
        return ys[left] + fraction * (ys[right] - ys[left])


DEFAULT_CALIBRATION = Calibration(raw=[0.0, 1.0], probability=[0.0, 1.0])
"""The identity map, for an engine that has no fitted one."""
FITTED_CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
"""Each engine's map fitted on real scans (`docuforge bench calibrate`): how often a character read with a given
confidence is right."""


@cache
def fitted_calibration() -> dict[str, Calibration]:
    fitted = json.loads(FITTED_CALIBRATION_FILE.read_text(encoding="utf-8"))
    return {engine: Calibration(**knots) for engine, knots in fitted["engines"].items()}


def fit_calibration(raw_confidences: list[float], correct: list[bool], n_bins: int = 10) -> Calibration:
    """Binned isotonic calibration: equal-count bins, each bin's hit rate shrunk toward the overall rate,
    then pooled where needed so the map never decreases."""
    if len(raw_confidences) != len(correct):
        raise ValueError("raw_confidences and correct must have the same length")
    if not raw_confidences:
        return DEFAULT_CALIBRATION
    order = np.argsort(np.asarray(raw_confidences, dtype=float), kind="stable")
    raw = np.asarray(raw_confidences, dtype=float)[order]
    hits = np.asarray(correct, dtype=float)[order]
    overall_rate = float(hits.mean())
    n_bins = min(n_bins, len(raw))
    centres, rates, counts = [], [], []
    for raw_bin, hit_bin in zip(np.array_split(raw, n_bins), np.array_split(hits, n_bins)):
        centres.append(float(raw_bin.mean()))
        rates.append((float(hit_bin.sum()) + overall_rate) / (len(hit_bin) + 1))
        counts.append(len(hit_bin))
    centres, rates, counts = _merge_equal_centres(centres, rates, counts)
    return Calibration(raw=centres, probability=_pool_adjacent_violators(rates, counts))


def _merge_equal_centres(
    centres: list[float], rates: list[float], counts: list[int]
) -> tuple[list[float], list[float], list[int]]:
    merged_centres, merged_rates, merged_counts = [centres[0]], [rates[0]], [counts[0]]
    for centre, rate, count in zip(centres[1:], rates[1:], counts[1:]):
        if centre <= merged_centres[-1]:
            total = merged_counts[-1] + count
            merged_rates[-1] = (merged_rates[-1] * merged_counts[-1] + rate * count) / total
            merged_counts[-1] = total
        else:
            merged_centres.append(centre)
            merged_rates.append(rate)
            merged_counts.append(count)
    return merged_centres, merged_rates, merged_counts


def _pool_adjacent_violators(values: list[float], counts: list[int]) -> list[float]:
    """The non-decreasing sequence closest to `values` in count-weighted least squares."""
    blocks: list[list[float]] = []  # [mean, total count, number of values pooled]
    for value, count in zip(values, counts):
        blocks.append([value, float(count), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean_b, count_b, size_b = blocks.pop()
            mean_a, count_a, size_a = blocks[-1]
            blocks[-1] = [(mean_a * count_a + mean_b * count_b) / (count_a + count_b), count_a + count_b, size_a + size_b]
    pooled: list[float] = []
    for mean, _, size in blocks:
        pooled.extend([min(1.0, max(0.0, mean))] * int(size))
    return pooled


class VotedLine(BaseModel):
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    agreement: float = Field(ge=0.0, le=1.0, description="mean normalised similarity of the readings to the text")
    word_confidences: list[float] = Field(description="one per whitespace-separated word of text")
    engines: list[str] = Field(description="engines whose readings took part in the vote")


@dataclass(frozen=True)
class _Voter:
    """One usable reading, with its weight and calibrated per-character confidences."""

    engine: str
    text: str
    weight: float
    line_confidence: float
    char_confidences: list[float]

    @property
    def strength(self) -> float:
        return self.weight * self.line_confidence

    def gap_confidence(self, position: int) -> float:
        """How sure the engine is that nothing stands between text[position - 1] and text[position]."""
        neighbours = self.char_confidences[max(0, position - 1) : position + 1]
        return sum(neighbours) / len(neighbours) if neighbours else self.line_confidence


@dataclass(frozen=True)
class _Vote:
    option: str
    confidence: float


@dataclass
class _Ballot:
    """One engine's votes: per pivot character, and per insertion slot (before pivot char i; the last is after all)."""

    weight: float
    characters: list[_Vote]
    insertions: list[_Vote]


def vote_line(
    readings: list[LineReading],
    weights: dict[str, float] | None = None,
    calibration: dict[str, Calibration] | None = None,
    firm_breaks: Collection[int] = (),
) -> VotedLine:
    """`firm_breaks`: indexes of spaces in readings[0].text that the page image confirms (a wide gap of white between
    the words): they survive the vote, since a recogniser that glues words across a column gap must not win there."""
    voters = _usable_voters(readings, weights or DEFAULT_WEIGHTS, calibration or {})
    if not voters:
        return VotedLine(text="", confidence=0.0, agreement=0.0, word_confidences=[], engines=[])
    if len(voters) == 1:
        return _single_reading(voters[0])
    pivot = max(voters, key=lambda voter: voter.strength)  # max keeps the first of equals
    others = [voter for voter in voters if voter is not pivot]
    ballots = [_pivot_ballot(pivot)] + [_aligned_ballot(pivot.text, voter) for voter in others]
    total_weight = sum(voter.weight for voter in voters)
    text, char_confidences, decision_confidences = _count(ballots, total_weight)
    text, char_confidences = _restore_breaks(readings[0].text, firm_breaks, text, char_confidences)
    return VotedLine(
        text=text,
        confidence=_mean(decision_confidences),
        agreement=_mean([Levenshtein.normalized_similarity(voter.text, text) for voter in voters]),
        word_confidences=_word_confidences(text, char_confidences),
        engines=[voter.engine for voter in voters],
    )


def _usable_voters(
    readings: list[LineReading], weights: dict[str, float], calibration: dict[str, Calibration]
) -> list[_Voter]:
    voters = []
    for reading in readings:
        engine_calibration = calibration.get(reading.engine, DEFAULT_CALIBRATION)
        weight = weights.get(reading.engine, DEFAULT_WEIGHTS.get(reading.engine, FALLBACK_WEIGHT))
        line_confidence = engine_calibration.apply(reading.confidence)
        if not reading.text or weight <= 0 or line_confidence <= 0:
            continue
        voters.append(
            _Voter(
                engine=reading.engine,
                text=reading.text,
                weight=weight,
                line_confidence=line_confidence,
                char_confidences=_calibrated_char_confidences(reading, engine_calibration, line_confidence),
            )
        )
    return voters


def _calibrated_char_confidences(reading: LineReading, calibration: Calibration, line_confidence: float) -> list[float]:
    raw = reading.char_confidences
    if raw is None or len(raw) != len(reading.text):
        return [line_confidence] * len(reading.text)
    return [calibration.apply(value) for value in raw]


def _single_reading(voter: _Voter) -> VotedLine:
    return VotedLine(
        text=voter.text,
        confidence=voter.line_confidence,
        agreement=1.0,
        word_confidences=_word_confidences(voter.text, voter.char_confidences),
        engines=[voter.engine],
    )


def _pivot_ballot(pivot: _Voter) -> _Ballot:
    return _Ballot(
        weight=pivot.weight,
        characters=[_Vote(char, confidence) for char, confidence in zip(pivot.text, pivot.char_confidences)],
        insertions=[_Vote(NOTHING, pivot.gap_confidence(position)) for position in range(len(pivot.text) + 1)],
    )


def _aligned_ballot(pivot_text: str, voter: _Voter) -> _Ballot:
    characters: list[_Vote] = [_Vote(NOTHING, 0.0)] * len(pivot_text)
    insertions = [_Vote(NOTHING, voter.gap_confidence(0))] + [_Vote(NOTHING, 0.0)] * len(pivot_text)
    for tag, src_start, src_end, dest_start, dest_end in Levenshtein.opcodes(pivot_text, voter.text):
        if tag == "insert":
            inserted = voter.text[dest_start:dest_end]
            confidence = _mean(voter.char_confidences[dest_start:dest_end])
            insertions[src_start] = _Vote(inserted, confidence)
            continue
        for offset in range(src_end - src_start):
            pivot_position = src_start + offset
            if tag == "delete":
                characters[pivot_position] = _Vote(NOTHING, voter.gap_confidence(dest_start))
                insertions[pivot_position + 1] = _Vote(NOTHING, voter.gap_confidence(dest_start))
            else:  # equal or replace: one character for one
                dest = dest_start + offset
                characters[pivot_position] = _Vote(voter.text[dest], voter.char_confidences[dest])
                insertions[pivot_position + 1] = _Vote(NOTHING, voter.gap_confidence(dest + 1))
    return _Ballot(voter.weight, characters, insertions)


def _count(ballots: list[_Ballot], total_weight: float) -> tuple[str, list[float], list[float]]:
    """The winning option of every slot, in reading order. Returns the text, a confidence per character of it, and
    one per decision that counts for the line: every pivot character (kept, replaced or dropped) and every insertion."""
    weights = [ballot.weight for ballot in ballots]
    pieces: list[str] = []
    char_confidences: list[float] = []
    decision_confidences: list[float] = []
    n_characters = len(ballots[0].characters)
    for slot in range(2 * n_characters + 1):
        is_insertion = slot % 2 == 0
        votes = [(ballot.insertions if is_insertion else ballot.characters)[slot // 2] for ballot in ballots]
        option, support = _winner(votes, weights)
        confidence = min(1.0, support / total_weight)
        if option or not is_insertion:
            decision_confidences.append(confidence)
        pieces.append(option)
        char_confidences.extend([confidence] * len(option))
    return "".join(pieces), char_confidences, decision_confidences


def _winner(votes: list[_Vote], weights: list[float]) -> tuple[str, float]:
    """Best-scoring option; votes[0] is the pivot's, which wins ties."""
    scores: dict[str, float] = {}
    for vote, weight in zip(votes, weights):
        scores[vote.option] = scores.get(vote.option, 0.0) + weight * vote.confidence
    pivot_option = votes[0].option
    best = max(scores, key=lambda option: (scores[option], option == pivot_option))
    return best, scores[best]


def _restore_breaks(
    reference: str, breaks: Collection[int], text: str, char_confidences: list[float]
) -> tuple[str, list[float]]:
    """`text` with a space put back wherever it lost one of the reference's spaces at `breaks` (a space inserted
    inside a word splits it; each part keeps the confidences of its characters)."""
    wanted = {position for position in breaks if 0 <= position < len(reference) and reference[position].isspace()}
    insert_at: set[int] = set()
    for tag, src_start, src_end, dest_start, _ in Levenshtein.opcodes(reference, text):
        for position in wanted.intersection(range(src_start, src_end)):
            if tag == "delete":
                insert_at.add(dest_start)
            elif tag == "replace":  # the space read as some character: the break goes before it
                insert_at.add(dest_start + position - src_start)
    insert_at = {at for at in insert_at if 0 < at < len(text) and not (text[at - 1].isspace() or text[at].isspace())}
    for at in sorted(insert_at, reverse=True):
        text = text[:at] + " " + text[at:]
        char_confidences = char_confidences[:at] + [1.0] + char_confidences[at:]
    return text, char_confidences


def _word_confidences(text: str, char_confidences: list[float]) -> list[float]:
    """A word is only as sure as its least sure character."""
    return [min(char_confidences[match.start() : match.end()]) for match in re.finditer(r"\S+", text)]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# Digits that OCR confuses with letters (0/O, 1/l/I, 2/Z, 5/S, 6/G, 8/B) and letters it confuses with digits.
_DIGIT_INSIDE_WORD = re.compile(r"[A-Za-z]{2,}[012568][A-Za-z]|[A-Za-z][012568][A-Za-z]{2,}|[a-z][012568][a-z]")
_DIGIT_LEADING_WORD = re.compile(r"^[012568]([A-Za-z]{2,})$")
_DIGIT_ENDING_WORD = re.compile(r"^[a-z]{3,}[01]$")
_LETTER_INSIDE_NUMBER = re.compile(r"^[$€£]?\d[\d.,]*[OoIlSB][\d.,OoIlSB]*$")
_TRAILING_LETTERS = re.compile(r"[A-Za-z]+$")
# Suffixes that legitimately follow digits: ordinals, times, units.
_NUMBER_SUFFIXES = frozenset(
    "st nd rd th am pm k kg g mg ml l lb lbs oz km m cm mm in ft gb mb kb tb hz khz mhz ghz v w kw kwh "
    "s h hr hrs min x pc pcs".split()
)
_PUNCTUATION_EDGES = "\"'()[]{}<>.,;:!?"
# A list bullet read as a letter or a symbol: a lone "e", "o", "°", "«" … before a capitalised word.
_MISREAD_BULLET = re.compile(r"^[eo°*«»·©®]\s+[A-Z]")


def should_escalate(reading: LineReading, threshold: float) -> bool:
    """Whether the cascade should ask the other engines about this line: low confidence, nothing read,
    or suspicious text (digits inside words, letters inside numbers, a misread bullet, unprintable characters,
    symbol soup)."""
    if reading.confidence < threshold or not reading.text.strip() or _MISREAD_BULLET.match(reading.text):
        return True
    if any(not char.isprintable() or char == "\ufffd" for char in reading.text):
        return True
    tokens = reading.text.split()
    return any(_is_suspicious_token(token) for token in tokens) or _has_punctuation_soup(tokens)


def _is_suspicious_token(token: str) -> bool:
    if _is_punctuation_soup(token):
        return True
    core = token.strip(_PUNCTUATION_EDGES)
    if _DIGIT_INSIDE_WORD.search(core) or _DIGIT_ENDING_WORD.match(core):
        return True
    leading = _DIGIT_LEADING_WORD.match(core)
    if leading and leading.group(1).lower() not in _NUMBER_SUFFIXES:
        return True
    if _LETTER_INSIDE_NUMBER.match(core) and sum(char.isdigit() for char in core) >= 2:
        trailing = _TRAILING_LETTERS.search(core)
        return not (trailing and trailing.group().lower() in _NUMBER_SUFFIXES)
    return False


def _is_punctuation_soup(token: str) -> bool:
    """Three or more symbols of at least two kinds ("-----" and "..." are rules and leaders, not noise)."""
    return len(token) >= 3 and len(set(token)) >= 2 and not any(char.isalnum() for char in token)


def _has_punctuation_soup(tokens: list[str]) -> bool:
    """Three isolated symbol tokens in a row, not all the same symbol ("- - -" is a rule)."""
    run: list[str] = []
    for token in tokens:
        run = run + [token] if not any(char.isalnum() for char in token) else []
        if len(run) >= 3 and len(set("".join(run[-3:]))) >= 2:
            return True
    return False
