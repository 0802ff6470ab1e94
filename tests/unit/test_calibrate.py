"""Fitting each engine's confidence map from readings of lines with known text (`docuforge bench calibrate`)."""
from __future__ import annotations

from json import loads
from pathlib import Path

import pandas as pd

from tasks.bench.calibrate import character_samples, fit_engines, write_calibration
from tasks.bench.groundtruth import GroundTruth
from tasks.ocr.vote import Calibration

TRUTH = "TOTAL 12.50\nTHANK YOU\nCASH 20.00"


def test_each_character_of_a_reading_is_scored_against_the_truth_line_it_reads():
    confidences, correct = character_samples([("T0TAL 12.50", 0.6), ("thank you", 0.9), ("a logo", 0.8)], TRUTH)
    assert confidences == [0.6] * 11 + [0.9] * 9, "a reading matching no truth line is left out"
    assert correct == [True, False] + [True] * 9 + [True] * 9, "case does not count, as in the CER"


def test_fit_engines_gives_a_map_per_engine_that_rises_with_confidence(tmp_path: Path):
    good, bad = ("TOTAL 12.50", "THANK YOU", "CASH 20.00"), ("T0TAL 1Z.S0", "THAMK Y0U", "CA5H Z0.0O")
    rows = [{"job_id": "j", "engine": "paddle", "text": text, "confidence": 0.95} for text in good]
    rows += [{"job_id": "j", "engine": "paddle", "text": text, "confidence": 0.3} for text in bad]
    rows += [{"job_id": "j", "engine": "ensemble", "text": text, "confidence": 0.9} for text in good]
    truth = GroundTruth(document=tmp_path / "r.jpg", truth_file=tmp_path / "r.gt.txt", text=TRUTH, pages=None)
    (fit,) = fit_engines(pd.DataFrame(rows), {"j": truth})
    assert fit.engine == "paddle" and fit.characters == 2 * sum(len(text) for text in good)
    assert fit.calibration.apply(0.3) < 0.8 < 0.95 < fit.calibration.apply(0.95)
    path = tmp_path / "calibration.json"
    write_calibration(path, [fit], "two readings of one receipt")
    written = loads(path.read_text())
    assert written["fitted_on"] == "two readings of one receipt"
    assert Calibration(**written["engines"]["paddle"]) == fit.calibration
