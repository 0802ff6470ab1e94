"""Each engine's confidence → probability map, fitted on scans with known text (`docuforge bench calibrate`).

The scans go through `docuforge parse --ocr-mode ensemble` (one child for all of them), so every engine reads every
line the pipeline finds; the `lines` table keeps each engine's reading with its confidence. Each reading is matched
to the truth line it reads best, aligned to it character by character, and each of its characters is a sample:
(the reading's confidence, whether the character is right). `fit_calibration` turns the samples into a monotone map.
"""
from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from tasks.bench.groundtruth import GroundTruth
from tasks.bench.metrics import normalise
from tasks.bench.ocr import BenchOptions, docuforge_parse, finished_jobs, read_table, run_child
from tasks.ocr.vote import Calibration, fit_calibration

MIN_MATCH = 0.5
"""A reading whose best truth line is less similar than this is left out: it reads text the truth does not hold
(a logo, a stamp), or the detector cut a truth line apart."""


class EngineFit(BaseModel):
    engine: str
    characters: int
    accuracy: float
    calibration: Calibration


def character_samples(readings: Sequence[tuple[str, float]], truth: str) -> tuple[list[float], list[bool]]:
    """One sample per character of each reading (text, confidence): is it the truth line's character there?"""
    truth_lines = [line for line in (normalise(text) for text in truth.splitlines()) if line]
    confidences: list[float] = []
    correct: list[bool] = []
    for text, confidence in readings:
        text = normalise(text)
        if not text or not truth_lines:
            continue
        _, similarity, index = process.extractOne(text, truth_lines, scorer=Levenshtein.normalized_similarity)
        if similarity < MIN_MATCH:
            continue
        right = [False] * len(text)
        for tag, start, end, _, _ in Levenshtein.opcodes(text, truth_lines[index]):
            if tag == "equal":
                right[start:end] = [True] * (end - start)
        confidences += [confidence] * len(text)
        correct += right
    return confidences, correct


def fit_engines(lines, truths_by_job: dict[str, GroundTruth]) -> list[EngineFit]:
    """lines: the `lines` table (pandas) of an ensemble run; one fit per engine (the vote's own lines left out)."""
    samples: dict[str, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    for (job_id, engine), group in lines.groupby(["job_id", "engine"]):
        if engine == "ensemble" or job_id not in truths_by_job:
            continue
        confidences, correct = character_samples(list(zip(group.text, group.confidence)), truths_by_job[job_id].text)
        samples[engine][0].extend(confidences)
        samples[engine][1].extend(correct)
    return [EngineFit(engine=engine, characters=len(correct), accuracy=sum(correct) / len(correct),
                      calibration=fit_calibration(confidences, correct))
            for engine, (confidences, correct) in sorted(samples.items()) if correct]


def calibrate(truths: Sequence[GroundTruth], options: BenchOptions) -> list[EngineFit]:
    """Parse the scans in ensemble mode and fit every engine's map on them."""
    with tempfile.TemporaryDirectory(prefix="docuforge-calibrate-") as out:
        out_dir = Path(out)
        child = run_child(docuforge_parse([truth.document for truth in truths], out_dir, options, "ensemble"),
                          options.timeout_s * len(truths))
        jobs, crash = finished_jobs(child, out_dir)
        if crash:
            raise RuntimeError(f"the docuforge child crashed: {crash}")
        by_source = {str(truth.document): truth for truth in truths}
        truths_by_job = {job.job_id: by_source[source] for source, job in jobs.items() if source in by_source}
        lines = read_table(out_dir, "lines", ["job_id", "engine", "text", "confidence"])
        return [] if lines is None else fit_engines(lines.to_pandas(), truths_by_job)


def write_calibration(path: Path, fits: Sequence[EngineFit], fitted_on: str) -> None:
    """The file `tasks.ocr.vote.fitted_calibration` reads."""
    engines = {fit.engine: fit.calibration.model_dump() for fit in fits}
    path.write_text(json.dumps({"fitted_on": fitted_on, "engines": engines}, indent=1) + "\n", encoding="utf-8")
