import random

import pytest
from pydantic import ValidationError
from rapidfuzz.distance import Levenshtein

from tasks.ocr.base import LineReading
from tasks.ocr.vote import (
    DEFAULT_CALIBRATION,
    Calibration,
    fit_calibration,
    should_escalate,
)
from tasks.ocr.vote import vote_line as vote

EQUAL_WEIGHTS = {"paddle": 1.0, "tesseract": 1.0, "easyocr": 1.0}
SEED_WEIGHTS = {"tesseract": 0.4, "paddle": 0.4, "easyocr": 0.2}


def vote_line(readings, weights=None, calibration=None, firm_breaks=()):
    """These tests are about how the vote works, so they weigh the engines as the seed does (0.4/0.4/0.2) unless a
    test gives its own weights, whatever the fitted defaults are."""
    return vote(readings, weights or SEED_WEIGHTS, calibration, firm_breaks)


def reading(text: str, confidence: float, engine: str, char_confidences: list[float] | None = None) -> LineReading:
    return LineReading(text=text, confidence=confidence, engine=engine, char_confidences=char_confidences)


# --- voting -------------------------------------------------------------------------------------------------


def test_identical_readings_give_the_same_text_in_full_agreement():
    readings = [reading("TOTAL 12.50", 0.9, engine) for engine in ("paddle", "tesseract", "easyocr")]
    voted = vote_line(readings)
    assert voted.text == "TOTAL 12.50"
    assert voted.agreement == 1.0
    assert voted.confidence == pytest.approx(0.9)
    assert voted.engines == ["paddle", "tesseract", "easyocr"]


def test_a_single_reading_is_returned_as_is():
    voted = vote_line([reading("Thank you!", 0.8, "tesseract")])
    assert (voted.text, voted.confidence, voted.agreement, voted.engines) == ("Thank you!", 0.8, 1.0, ["tesseract"])
    assert voted.word_confidences == [0.8, 0.8]


def test_the_strong_confident_engine_beats_one_weak_engine_on_a_single_character():
    voted = vote_line([reading("TOTAL 12.5O", 0.6, "easyocr"), reading("TOTAL 12.50", 0.95, "paddle")])
    assert voted.text == "TOTAL 12.50"
    assert 0 < voted.agreement < 1


def test_two_engines_agreeing_confidently_overrule_the_third():
    voted = vote_line([reading("T0TAL", 0.7, "paddle"), reading("TOTAL", 0.9, "tesseract"), reading("TOTAL", 0.9, "easyocr")])
    assert voted.text == "TOTAL"


def test_two_unsure_engines_do_not_overrule_a_confident_strong_one():
    voted = vote_line([reading("TOTAL", 0.95, "paddle"), reading("T0TAL", 0.3, "tesseract"), reading("T0TAL", 0.3, "easyocr")])
    assert voted.text == "TOTAL"


def test_a_tie_goes_to_the_pivot():
    voted = vote_line([reading("cat", 0.8, "paddle"), reading("cot", 0.8, "tesseract")])
    assert voted.text == "cat"  # equal strength: the first reading is the pivot


@pytest.mark.parametrize(
    "pivot_text",
    ["recieved", "recived", "receivved", "eceived", "receive", "rreceived", "receivedd"],
    ids=["transposition", "missing-inside", "extra-inside", "missing-first", "missing-last", "extra-first", "extra-last"],
)
def test_insertions_and_deletions_are_aligned_and_outvoted(pivot_text):
    readings = [reading(pivot_text, 0.8, "paddle"), reading("received", 0.8, "tesseract"), reading("received", 0.8, "easyocr")]
    assert vote_line(readings).text == "received"


def test_a_confident_pivot_keeps_its_insertion_against_one_unsure_dissenter():
    voted = vote_line([reading("Total: 9.99", 0.95, "paddle"), reading("Total 9.99", 0.4, "tesseract")])
    assert voted.text == "Total: 9.99"


def test_per_character_confidences_are_used_when_given():
    unsure_zero = [0.95, 0.1, 0.95, 0.95, 0.95]
    without = vote_line([reading("T0TAL", 0.9, "paddle"), reading("TOTAL", 0.7, "tesseract")])
    with_chars = vote_line([reading("T0TAL", 0.9, "paddle", unsure_zero), reading("TOTAL", 0.7, "tesseract")])
    assert without.text == "T0TAL"
    assert with_chars.text == "TOTAL"


def test_char_confidences_of_the_wrong_length_fall_back_to_the_line_confidence():
    voted = vote_line([reading("T0TAL", 0.9, "paddle", [0.1, 0.1]), reading("TOTAL", 0.7, "tesseract")])
    assert voted.text == "T0TAL"


def test_word_confidences_follow_the_words_and_their_weakest_character():
    readings = [
        reading("CASH 20.00", 0.9, "paddle", [0.9] * 5 + [0.9, 0.3, 0.9, 0.9, 0.9]),
        reading("CASH 20.00", 0.9, "tesseract"),
    ]
    voted = vote_line(readings)
    assert len(voted.word_confidences) == len(voted.text.split()) == 2
    assert voted.word_confidences[1] < voted.word_confidences[0]
    assert all(0 <= value <= 1 for value in voted.word_confidences)


def test_word_confidences_count_words_of_the_voted_text_not_of_the_pivot():
    voted = vote_line([reading("TOTALDUE 5.00", 0.7, "paddle"), reading("TOTAL DUE 5.00", 0.9, "tesseract"),
                       reading("TOTAL DUE 5.00", 0.9, "easyocr")])
    assert voted.text == "TOTAL DUE 5.00"
    assert len(voted.word_confidences) == 3


GLUED = reading("SUMMEEUR 49,54", 0.95, "paddle", [0.95] * 5 + [0.99] * 9)  # sure of "no space" after SUMME


def test_a_more_confident_engine_removes_a_break_the_image_does_not_confirm():
    voted = vote_line([reading("SUMME EUR 49,54", 0.8, "tesseract"), GLUED])
    assert voted.text == "SUMMEEUR 49,54"


def test_a_break_the_image_confirms_survives_a_more_confident_engine_that_glues_the_words():
    voted = vote_line([reading("SUMME EUR 49,54", 0.8, "tesseract"), GLUED], firm_breaks=[5])
    assert voted.text == "SUMME EUR 49,54"
    assert len(voted.word_confidences) == 3
    assert voted.agreement == pytest.approx((1.0 + Levenshtein.normalized_similarity(GLUED.text, voted.text)) / 2)


def test_a_confirmed_break_survives_when_the_detector_is_the_pivot_and_is_outvoted():
    readings = [reading("SUMME EUR 49,54", 0.99, "tesseract"), GLUED, reading("SUMMEEUR 49,54", 0.9, "easyocr")]
    assert vote_line(readings).text == "SUMMEEUR 49,54"
    assert vote_line(readings, firm_breaks=[5]).text == "SUMME EUR 49,54"


def test_a_confirmed_break_read_as_a_character_goes_before_that_character():
    voted = vote_line([reading("SUMME EUR", 0.6, "tesseract"), reading("SUMME1EUR", 0.95, "paddle")], firm_breaks=[5])
    assert voted.text == "SUMME 1EUR"


def test_firm_breaks_add_nothing_where_the_detector_read_no_space():
    readings = [reading("SUMMEEUR 49,54", 0.8, "tesseract"), GLUED]
    assert vote_line(readings, firm_breaks=[5, 8, 99, -1]).text == "SUMMEEUR 49,54"


def test_a_confirmed_break_the_vote_kept_is_not_doubled():
    voted = vote_line([reading("SUMME EUR", 0.9, "tesseract"), reading("SUMME EUR", 0.9, "paddle")], firm_breaks=[5])
    assert voted.text == "SUMME EUR"


def test_empty_and_zero_confidence_readings_are_ignored():
    voted = vote_line([reading("", 0.9, "paddle"), reading("Subtotal", 0.7, "tesseract"), reading("Subt0tal", 0.0, "easyocr")])
    assert (voted.text, voted.engines, voted.agreement) == ("Subtotal", ["tesseract"], 1.0)


def test_no_usable_reading_gives_an_empty_line():
    for readings in ([], [reading("", 0.9, "paddle"), reading("x", 0.0, "tesseract")]):
        voted = vote_line(readings)
        assert (voted.text, voted.confidence, voted.word_confidences, voted.engines) == ("", 0.0, [], [])


def test_zero_weight_removes_an_engine():
    voted = vote_line([reading("T0TAL", 0.99, "paddle"), reading("TOTAL", 0.5, "tesseract")], {"paddle": 0.0, "tesseract": 0.4})
    assert (voted.text, voted.engines) == ("TOTAL", ["tesseract"])


def test_calibration_decides_between_engines_whose_raw_confidences_differ_in_meaning():
    readings = [reading("TOTAL", 0.7, "paddle"), reading("T0TAL", 0.95, "tesseract")]
    tesseract_overconfident = Calibration(raw=[0.0, 1.0], probability=[0.0, 0.4])
    assert vote_line(readings).text == "T0TAL"
    assert vote_line(readings, calibration={"tesseract": tesseract_overconfident}).text == "TOTAL"


# --- calibration --------------------------------------------------------------------------------------------


def test_default_calibration_is_the_identity_clamped_to_unit_range():
    assert [DEFAULT_CALIBRATION.apply(x) for x in (-0.5, 0.0, 0.3, 1.0, 42.0)] == [0.0, 0.0, 0.3, 1.0, 1.0]


def test_fitted_calibration_recovers_an_overconfident_engine():
    rng = random.Random(3)
    raw = [rng.random() for _ in range(5000)]
    correct = [rng.random() < x * x for x in raw]  # the engine says x, it is right x² of the time
    calibration = fit_calibration(raw, correct)
    for x in (0.3, 0.5, 0.7, 0.9):
        assert calibration.apply(x) == pytest.approx(x * x, abs=0.06)


def test_fitted_calibration_is_monotone_even_on_noisy_non_monotone_data():
    rng = random.Random(5)
    raw = [rng.random() for _ in range(300)]
    correct = [rng.random() < (0.8 if 0.4 < x < 0.5 else 0.4) for x in raw]
    calibration = fit_calibration(raw, correct)
    mapped = [calibration.apply(i / 100) for i in range(101)]
    assert all(b >= a for a, b in zip(mapped, mapped[1:]))
    assert all(0 <= value <= 1 for value in mapped)


def test_fit_calibration_edge_cases():
    assert fit_calibration([], []) == DEFAULT_CALIBRATION
    constant = fit_calibration([0.9] * 10, [True] * 7 + [False] * 3)
    assert constant.apply(0.1) == constant.apply(0.99) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        fit_calibration([0.5], [True, False])


def test_calibration_rejects_a_decreasing_map():
    with pytest.raises(ValidationError):
        Calibration(raw=[0.0, 1.0], probability=[0.9, 0.1])


def test_calibration_round_trips_through_json():
    calibration = fit_calibration([0.1, 0.5, 0.9, 0.95], [False, True, True, True])
    assert Calibration.model_validate_json(calibration.model_dump_json()) == calibration


# --- cascade ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["l0ss of power", "c1ient", "T0TAL 12.50", "SUBT0TAL", "CA5H", "5ale today", "hell0", "TOTAL 1O5.00",
     "12.5O", "bell\x07", "x \ufffd y", "., ;: ~^", "paid . , ;", "total ~^`", "", "   ",
     "e IBM MT/ST (Magnetic Tape)", "« WordStar (1978)", "° Google Docs"],
)
def test_suspicious_text_escalates(text):
    assert should_escalate(reading(text, 0.99, "tesseract"), threshold=0.8)


@pytest.mark.parametrize(
    "text",
    ["TOTAL $12.50", "3rd floor", "open 10am", "16GB RAM", "Vitamin B12", "MP3 player", "4x4", "-----", "Thanks...",
     "- - -", "Rice 12kg", "VAT 20%", "Invoice INV-00123", "A4 paper", "*** TOTAL ***", "(555) 123-4567",
     "12/03/2024", "B2B", "Qty: 2", "co-op", "COVID-19", "café crème", "e.g. Microsoft Word", "o'clock News"],
)
def test_ordinary_text_does_not_escalate(text):
    assert not should_escalate(reading(text, 0.99, "tesseract"), threshold=0.8)


def test_low_confidence_escalates():
    assert should_escalate(reading("TOTAL 12.50", 0.79, "tesseract"), threshold=0.8)
    assert not should_escalate(reading("TOTAL 12.50", 0.8, "tesseract"), threshold=0.8)


# --- simulation: the property the product depends on -------------------------------------------------------

WORDS = ("total subtotal cash change card visa receipt store coffee milk bread butter eggs cheese apple banana tax vat "
         "thank you for shopping item qty price amount discount member").split()
# OCR confuses glyphs in predictable directions, so weak engines that fail on the same glyph often agree on
# the same wrong character: the case where a plain majority goes wrong.
CONFUSIONS = {"0": "O", "O": "0", "o": "0", "1": "l", "l": "1", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8",
              "e": "c", "c": "e", "a": "o", "n": "m", "m": "n", "i": "l", "r": "n", "t": "f", "u": "v", "v": "u",
              "E": "F", "T": "I", "A": "4", "2": "Z", "6": "G"}
NOISE = "abcdefghijklmnopqrstuvwxyz0123456789.,"
SURE, UNSURE = 0.99, 0.5
HARD_CHARACTER_RATE = 0.15
# engine: (chance of being unsure about an easy character, about a hard one)
SIMULATED_ENGINES = {"paddle": (0.01, 0.3), "tesseract": (0.06, 0.8), "easyocr": (0.04, 0.6)}


def simulated_truth(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.5:
        words = [word.upper() for word in words]
    return " ".join(words + [f"{rng.randint(0, 999)}.{rng.randint(0, 99):02d}"])


def simulated_reading(rng: random.Random, engine: str, truth: str, hard: list[bool]) -> LineReading:
    """Honest confidences: a character read with confidence c is right with probability c."""
    text, confidences = [], []
    for char, is_hard in zip(truth, hard):
        confidence = UNSURE if rng.random() < SIMULATED_ENGINES[engine][is_hard] else SURE
        error = rng.random()
        if error < confidence:
            text.append(char)
            confidences.append(confidence)
        elif error < confidence + 0.7 * (1 - confidence):
            text.append(CONFUSIONS.get(char) or rng.choice(NOISE))
            confidences.append(confidence)
        elif error < confidence + 0.85 * (1 - confidence):
            continue  # dropped
        else:
            text += [char, rng.choice(NOISE)]
            confidences += [confidence, confidence]
    line_confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return reading("".join(text), line_confidence, engine, confidences)


def naive_majority(readings: list[LineReading]) -> str:
    """Per aligned character, the most engines win; no weights, no confidences (ties to the first reading)."""
    plain = [reading(r.text, 1.0, r.engine) for r in readings]
    return vote_line(plain, EQUAL_WEIGHTS).text


def simulate(seed: int, n_lines: int) -> dict[str, float]:
    rng = random.Random(seed)
    edits = dict.fromkeys([*SIMULATED_ENGINES, "vote", "naive majority"], 0)
    wrong_word_confidences, right_word_confidences = [], []
    reference_chars = 0
    for _ in range(n_lines):
        truth = simulated_truth(rng)
        hard = [rng.random() < HARD_CHARACTER_RATE for _ in truth]
        readings = [simulated_reading(rng, engine, truth, hard) for engine in SIMULATED_ENGINES]
        voted = vote_line(readings)
        for r in readings:
            edits[r.engine] += Levenshtein.distance(truth, r.text)
        edits["vote"] += Levenshtein.distance(truth, voted.text)
        edits["naive majority"] += Levenshtein.distance(truth, naive_majority(readings))
        reference_chars += len(truth)
        if len(voted.text.split()) == len(truth.split()):
            for word, true_word, confidence in zip(voted.text.split(), truth.split(), voted.word_confidences):
                (right_word_confidences if word == true_word else wrong_word_confidences).append(confidence)
    cer = {name: count / reference_chars for name, count in edits.items()}
    cer["mean confidence of right words"] = sum(right_word_confidences) / len(right_word_confidences)
    cer["mean confidence of wrong words"] = sum(wrong_word_confidences) / len(wrong_word_confidences)
    return cer


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_vote_beats_the_best_engine_and_a_naive_majority(seed):
    result = simulate(seed, n_lines=300)
    best_single = min(result[engine] for engine in SIMULATED_ENGINES)
    assert result["vote"] < 0.6 * best_single, result
    assert result["vote"] < 0.9 * result["naive majority"], result
    assert result["mean confidence of wrong words"] < result["mean confidence of right words"], result


def test_the_shipped_calibration_maps_every_engine_monotonically():
    from tasks.ocr import ENGINES
    from tasks.ocr.vote import fitted_calibration

    fitted = fitted_calibration()
    assert {"paddle", "tesseract", "easyocr"} <= set(fitted) <= set(ENGINES)
    for calibration in fitted.values():
        probabilities = [calibration.apply(raw / 10) for raw in range(11)]
        assert probabilities == sorted(probabilities) and 0 < probabilities[0] <= probabilities[-1] <= 1
