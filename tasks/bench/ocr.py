"""The pipeline measured on documents with known text: accuracy, speed and peak memory, one document at a time.

Each document goes through the real `docuforge parse` in a fresh child process, so its start-up, memory and
crashes are its own. The child command is a parameter (`ParseCommand`) so any program honouring the same contract
can be measured: print a JSON list with one object per document (job_id, status, num_pages, duration_ms) and
write the pages to the Parquet dataset `<out>/pages/operation=.../date=.../<job_id>.parquet`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter, computed_field

from tasks.bench.groundtruth import GroundTruth
from tasks.bench.metrics import TextScore, score
from tasks.markdown import page_text
from tasks.models import Block, Line, OcrMode


class BenchOptions(BaseModel):
    dpi: int = Field(300, ge=50, le=1200)
    ocr_mode: OcrMode = "auto"
    timeout_s: float = Field(1800, gt=0, description="A document's child process is killed after this long")


ParseCommand = Callable[[Path, Path, BenchOptions], Sequence[str]]
"""(document, output folder, options) → the argv of a child process that parses the document."""


def docuforge_parse(document: Path, out_dir: Path, options: BenchOptions) -> list[str]:
    return [
        sys.executable, "-m", "flows.cli", "parse", str(document), "--out", str(out_dir), "--json",
        "--dpi", str(options.dpi), "--ocr-mode", options.ocr_mode,
    ]


class DocumentMeasurement(BaseModel):
    document: str
    status: str = Field(description="The job's status, or 'error' when the child process gave no usable result")
    error: str | None = None
    pages: int = 0
    page_score: TextScore | None = Field(
        None, description="Summed over pages (so weighted by length), when the truth has one text per page"
    )
    document_score: TextScore | None = Field(None, description="The whole text against the whole truth")
    duration_ms: int = Field(0, description="Flow time reported by the child, without its start-up")
    wall_s: float = Field(0.0, description="The child process from start to exit")
    peak_rss_mb: float = Field(0.0, description="Largest resident set of the child or any descendant it waited for")
    engine_scores: dict[str, TextScore] = Field(
        default_factory=dict,
        description="Each engine's own reading of the same lines (engines that read every line), whole document",
    )

    @computed_field
    @property
    def pages_per_s(self) -> float | None:
        return self.pages / (self.duration_ms / 1000) if self.pages and self.duration_ms else None

    @computed_field
    @property
    def wall_pages_per_s(self) -> float | None:
        return self.pages / self.wall_s if self.pages and self.wall_s else None


class BenchReport(BaseModel):
    directory: str
    options: BenchOptions
    documents: list[DocumentMeasurement]
    total: DocumentMeasurement


class ParsedJob(BaseModel):
    """The part of `docuforge parse --json` output the benchmark reads."""

    job_id: str
    status: str
    num_pages: int
    duration_ms: int
    error: str | None = None


PARSE_OUTPUT = TypeAdapter(list[ParsedJob])


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mb: float


def run_child(argv: Sequence[str], timeout_s: float) -> ChildRun:
    """Run to completion, with the peak RSS from wait4 (which covers the descendants the child waited for)."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        killer = threading.Timer(timeout_s, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall_s = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
        stdout.seek(0)
        stderr.seek(0)
        return ChildRun(
            returncode=process.returncode,
            stdout=stdout.read().decode("utf-8", errors="replace"),
            stderr=stderr.read().decode("utf-8", errors="replace"),
            wall_s=wall_s,
            peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        )


def read_page_texts(out_dir: Path, job_id: str, num_pages: int) -> list[str]:
    """The text of pages 1..num_pages from the results dataset; a page with no row counts as empty."""
    import pyarrow.dataset as ds  # here, not at the top: it takes longer to import than all of `docuforge --help`

    pages = ds.dataset(out_dir / "pages", partitioning="hive", format="parquet")
    table = pages.to_table(columns=["page_number", "text"], filter=ds.field("job_id") == job_id).to_pydict()
    texts = dict(zip(table["page_number"], table["text"]))
    return [texts.get(number) or "" for number in range(1, num_pages + 1)]


def read_engine_texts(out_dir: Path, job_id: str) -> dict[str, str]:
    """Each engine's reading of the document, for the engines that read every line (in ensemble mode: all), put
    together the way the pipeline puts its page text together."""
    import pyarrow.dataset as ds

    if not (out_dir / "lines").is_dir():
        return {}
    lines = ds.dataset(out_dir / "lines", partitioning="hive", format="parquet").to_table(
        columns=["page_number", "block_id", "line_id", "engine", "text"], filter=ds.field("job_id") == job_id
    ).to_pandas().sort_values(["page_number", "line_id"])
    every_line = lines[["page_number", "line_id"]].drop_duplicates().shape[0]
    return {engine: "\n".join(_page_text(page) for _, page in group.groupby("page_number"))
            for engine, group in lines.groupby("engine") if len(group) == every_line and engine != "ensemble"}


def _page_text(lines) -> str:
    blocks = [Block(bbox=(0, 0, 1, 1), lines=[Line(text=text, bbox=(0, 0, 1, 1), confidence=0, engine="")
                                              for text in block.text])
              for _, block in lines.groupby("block_id", sort=False)]
    return page_text(blocks)


def score_pages(truth: GroundTruth, page_texts: list[str]) -> tuple[TextScore | None, TextScore]:
    """(score summed over pages when the truth has as many pages as the result, whole-document score)."""
    document_score = score(truth.text, "\n".join(page_texts))
    if truth.pages is None or len(truth.pages) != len(page_texts):
        return None, document_score
    return sum(map(score, truth.pages, page_texts), TextScore()), document_score


def last_lines(text: str, count: int = 10) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


def describe_failure(child: ChildRun, error: ValueError) -> str:
    if child.returncode == -signal.SIGKILL:
        return f"killed (after the timeout, or out of memory): {last_lines(child.stderr)}"
    if child.returncode != 0:
        return f"exit {child.returncode}: {last_lines(child.stderr)}"
    return f"no job summary on stdout ({error}): {child.stdout[-500:]}"


def measure_document(
    truth: GroundTruth, options: BenchOptions, label: str | None = None, command: ParseCommand = docuforge_parse
) -> DocumentMeasurement:
    with tempfile.TemporaryDirectory(prefix="docuforge-bench-") as out_dir:
        child = run_child(command(truth.document, Path(out_dir), options), options.timeout_s)
        measured = DocumentMeasurement(
            document=label or str(truth.document), status="error", wall_s=child.wall_s, peak_rss_mb=child.peak_rss_mb
        )
        try:
            [job] = PARSE_OUTPUT.validate_json(child.stdout)
        except ValueError as error:
            return measured.model_copy(update={"error": describe_failure(child, error)})
        measured = measured.model_copy(
            update={"status": job.status, "error": job.error, "pages": job.num_pages, "duration_ms": job.duration_ms}
        )
        if job.status == "failed":
            return measured
        try:
            page_texts = read_page_texts(Path(out_dir), job.job_id, job.num_pages)
        except OSError as error:
            return measured.model_copy(update={"status": "error", "error": f"no pages dataset: {error}"})
        page_score, document_score = score_pages(truth, page_texts)
        engine_scores = {engine: score(truth.text, text)
                         for engine, text in read_engine_texts(Path(out_dir), job.job_id).items()}
        return measured.model_copy(update={"page_score": page_score, "document_score": document_score,
                                           "engine_scores": engine_scores})


def sum_scores(scores: list[TextScore | None]) -> TextScore | None:
    present = [each for each in scores if each is not None]
    return sum(present, TextScore()) if present else None


def total(measurements: list[DocumentMeasurement]) -> DocumentMeasurement:
    """One row for all documents: scores weighted by length, speeds over the summed times, the largest peak RSS."""
    completed = sum(each.status == "completed" for each in measurements)
    return DocumentMeasurement(
        document="total",
        status=f"{completed}/{len(measurements)} completed",
        pages=sum(each.pages for each in measurements),
        page_score=sum_scores([each.page_score for each in measurements]),
        document_score=sum_scores([each.document_score for each in measurements]),
        duration_ms=sum(each.duration_ms for each in measurements),
        wall_s=sum(each.wall_s for each in measurements),
        peak_rss_mb=max((each.peak_rss_mb for each in measurements), default=0.0),
        engine_scores={engine: sum((m.engine_scores[engine] for m in measurements), TextScore())
                       for engine in set.intersection(*(set(m.engine_scores) for m in measurements))}
        if measurements else {},
    )
