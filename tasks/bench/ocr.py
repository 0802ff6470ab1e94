"""Docuforge and its peers measured side by side on documents with known text: accuracy, speed and peak memory.

Each Docuforge mode is one child process running the real `docuforge parse` on all documents one after another;
each peer (`tasks.bench.peers`) is one child of its own too, so a model loads once per run. The Docuforge child
command is a parameter (`ParseCommand`) so any program honouring the same contract can be measured: print a JSON
list with one object per document (job_id, source_uri, status, num_pages, duration_ms) and write the pages to the
Parquet dataset `<out>/pages/operation=.../date=.../<job_id>.parquet` (and, as each job ends, its row to
`<out>/documents/...`, which is what is left to read when the child dies before printing).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, computed_field

from tasks.bench.groundtruth import GroundTruth, Part
from tasks.bench.metrics import TextScore, score
from tasks.bench.peers import PEERS, PeerDocument
from tasks.markdown import page_text
from tasks.models import Block, Line, LineDetector, OcrMode


class BenchOptions(BaseModel):
    dpi: int = Field(300, ge=50, le=1200)
    modes: list[OcrMode] = Field(default_factory=lambda: ["auto"])
    peers: list[str] = Field(default_factory=list)
    timeout_s: float = Field(1800, gt=0, description="Per document: a run's child is killed after this many seconds "
                                                     "times its number of documents")
    tables: bool = Field(False, description="Docuforge finds tables (off: OCR is what is measured)")
    figures: bool = Field(False, description="Docuforge finds figures (off: OCR is what is measured)")
    part: Part = "all"
    limit: int | None = Field(None, ge=1, description="Only the first N documents of the part, in path order")
    line_detector: LineDetector = "paddle"


ParseCommand = Callable[[Sequence[Path], Path, BenchOptions, OcrMode], Sequence[str]]
"""(documents, output folder, options, mode) → the argv of a child process that parses all the documents."""


def docuforge_parse(documents: Sequence[Path], out_dir: Path, options: BenchOptions, mode: OcrMode) -> list[str]:
    return [
        sys.executable, "-m", "flows.cli", "parse", *map(str, documents), "--out", str(out_dir), "--json",
        "--dpi", str(options.dpi), "--ocr-mode", mode, "--line-detector", options.line_detector,
        "--tables" if options.tables else "--no-tables", "--figures" if options.figures else "--no-figures",
    ]


class DocumentMeasurement(BaseModel):
    document: str
    status: str = Field(description="completed, failed, partial (Docuforge), skipped (a peer that does not read "
                                    "this kind of file), or error: the run gave no usable result for it")
    error: str | None = None
    pages: int = 0
    page_score: TextScore | None = Field(
        None, description="Summed over pages (so weighted by length), when the truth has one text per page"
    )
    document_score: TextScore | None = Field(None, description="The whole text against the whole truth")
    seconds: float = Field(0.0, description="OCR time of the document: the flow's duration (Docuforge), rendering "
                                            "and OCR (peers); never the process start-up")
    engine_scores: dict[str, TextScore] = Field(
        default_factory=dict,
        description="Each engine's own reading of the same lines (engines that read every line), whole document",
    )

    @computed_field
    @property
    def pages_per_min(self) -> float | None:
        return 60 * self.pages / self.seconds if self.pages and self.seconds else None


class RunMeasurement(BaseModel):
    """One row of the comparison: a Docuforge mode or a peer, over all the documents, in one child process."""

    run: str
    peer: bool
    installed: bool = True
    error: str | None = Field(None, description="Why the run failed as a whole (crashed, not installed)")
    documents: list[DocumentMeasurement]
    total: DocumentMeasurement
    wall_s: float = Field(0.0, description="The child process from start to exit, start-up and model loads included")
    peak_rss_mb: float = Field(0.0, description="Largest resident set of the child or any descendant it waited for")

    @property
    def cer(self) -> float | None:
        return self.total.document_score.cer if self.total.document_score else None

    @property
    def read_every_document(self) -> bool:
        return bool(self.documents) and all(each.status == "completed" for each in self.documents)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(each.status == "error" for each in self.documents)


class Ratios(BaseModel):
    """A run against the best peer: CER × below 1 is more accurate, speed × above 1 is faster."""

    peer: str
    cer: float | None
    speed: float | None


def ratio(value: float | None, reference: float | None) -> float | None:
    return None if value is None or not reference else value / reference


def best_peer(runs: Sequence[RunMeasurement]) -> RunMeasurement | None:
    """The peer with the lowest CER among those that read every document (a peer that skipped or failed some was
    measured on other pages, and cannot be the yardstick)."""
    candidates = [run for run in runs if run.peer and run.read_every_document and run.cer is not None]
    return min(candidates, key=lambda run: run.cer, default=None)


def ratios_to(run: RunMeasurement, best: RunMeasurement) -> Ratios:
    return Ratios(peer=best.run, cer=ratio(run.cer, best.cer),
                  speed=ratio(run.total.pages_per_min, best.total.pages_per_min))


class BenchReport(BaseModel):
    directory: str
    options: BenchOptions
    documents: list[str] = Field(description="The documents of the part, in path order")
    runs: list[RunMeasurement]

    @computed_field
    @property
    def best_peer(self) -> str | None:
        best = best_peer(self.runs)
        return best.run if best else None

    @computed_field
    @property
    def ratios(self) -> dict[str, Ratios]:
        best = best_peer(self.runs)
        return {run.run: ratios_to(run, best) for run in self.runs} if best else {}


class ParsedJob(BaseModel):
    """The part of `docuforge parse --json` output (or of a documents row) the benchmark reads."""

    job_id: str
    source_uri: str
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


def run_child(argv: Sequence[str], timeout_s: float, env: Mapping[str, str] | None = None) -> ChildRun:
    """Run to completion, with the peak RSS from wait4 (which covers the descendants the child waited for)."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env)
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


def last_lines(text: str, count: int = 10) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


def describe_failure(child: ChildRun) -> str:
    if child.returncode == -signal.SIGKILL:
        return f"killed (after the timeout, or out of memory): {last_lines(child.stderr)}"
    if child.returncode != 0:
        return f"exit {child.returncode}: {last_lines(child.stderr)}"
    return f"no result on stdout: {child.stdout[-500:]}"


def score_pages(truth: GroundTruth, page_texts: list[str]) -> tuple[TextScore | None, TextScore]:
    """(score summed over pages when the truth has as many pages as the result, whole-document score)."""
    document_score = score(truth.text, "\n".join(page_texts))
    if truth.pages is None or len(truth.pages) != len(page_texts):
        return None, document_score
    return sum(map(score, truth.pages, page_texts), TextScore()), document_score


def sum_scores(scores: list[TextScore | None]) -> TextScore | None:
    present = [each for each in scores if each is not None]
    return sum(present, TextScore()) if present else None


def total(measurements: list[DocumentMeasurement]) -> DocumentMeasurement:
    """One row for all documents: scores weighted by length, speed over the summed OCR times."""
    completed = sum(each.status == "completed" for each in measurements)
    return DocumentMeasurement(
        document="total",
        status=f"{completed}/{len(measurements)} completed",
        pages=sum(each.pages for each in measurements),
        page_score=sum_scores([each.page_score for each in measurements]),
        document_score=sum_scores([each.document_score for each in measurements]),
        seconds=sum(each.seconds for each in measurements),
        engine_scores={engine: sum((m.engine_scores[engine] for m in measurements), TextScore())
                       for engine in set.intersection(*(set(m.engine_scores) for m in measurements))}
        if measurements else {},
    )


def run_measurement(name: str, peer: bool, documents: list[DocumentMeasurement], child: ChildRun,
                    error: str | None) -> RunMeasurement:
    return RunMeasurement(run=name, peer=peer, error=error, documents=documents, total=total(documents),
                          wall_s=child.wall_s, peak_rss_mb=child.peak_rss_mb)


def unread(truth: GroundTruth, why: str) -> DocumentMeasurement:
    return DocumentMeasurement(document=str(truth.document), status="error", error=why)


# --- Docuforge: one `docuforge parse` child per mode --------------------------------------------------------------


def measure_docuforge(truths: Sequence[GroundTruth], options: BenchOptions, mode: OcrMode,
                      command: ParseCommand = docuforge_parse) -> RunMeasurement:
    with tempfile.TemporaryDirectory(prefix="docuforge-bench-") as out:
        out_dir = Path(out)
        argv = command([truth.document for truth in truths], out_dir, options, mode)
        child = run_child(argv, options.timeout_s * len(truths))
        jobs, crash = finished_jobs(child, out_dir)
        page_texts, engine_texts = read_page_texts(out_dir), read_engine_texts(out_dir)
        documents = [
            measure_job(truth, job, page_texts, engine_texts) if (job := jobs.get(str(truth.document)))
            else unread(truth, f"not parsed: the docuforge child stopped before it ({crash})")
            for truth in truths
        ]
    return run_measurement(f"docuforge {mode}", False, documents, child,
                           f"the docuforge child crashed: {crash}" if crash else None)


def finished_jobs(child: ChildRun, out_dir: Path) -> tuple[dict[str, ParsedJob], str | None]:
    """The jobs by source: from the child's JSON summary, or when it printed none (it crashed), from the documents
    rows of the jobs it finished; and how it failed, if it did."""
    try:
        jobs = PARSE_OUTPUT.validate_json(child.stdout)
        return {job.source_uri: job for job in jobs}, None
    except ValidationError:
        return {job.source_uri: job for job in read_documents_rows(out_dir)}, describe_failure(child)


def read_table(out_dir: Path, name: str, columns: list[str]):
    """A table of the results dataset (a pyarrow Table), or None when the run wrote none of it."""
    import pyarrow.dataset as ds  # here, not at the top: it takes longer to import than all of `docuforge --help`

    if not (out_dir / name).is_dir():
        return None
    return ds.dataset(out_dir / name, partitioning="hive", format="parquet").to_table(columns=columns)


def read_documents_rows(out_dir: Path) -> list[ParsedJob]:
    rows = read_table(out_dir, "documents", list(ParsedJob.model_fields))
    return [] if rows is None else [ParsedJob.model_validate(row) for row in rows.to_pylist()]


def read_page_texts(out_dir: Path) -> dict[str, dict[int, str]]:
    """job id → page number → text."""
    rows = read_table(out_dir, "pages", ["job_id", "page_number", "text"])
    texts: dict[str, dict[int, str]] = defaultdict(dict)
    for row in [] if rows is None else rows.to_pylist():
        texts[row["job_id"]][row["page_number"]] = row["text"] or ""
    return texts


def read_engine_texts(out_dir: Path) -> dict[str, dict[str, str]]:
    """job id → engine → its reading of the document, for the engines that read every line (in ensemble mode: all),
    put together the way the pipeline puts its page text together."""
    lines = read_table(out_dir, "lines", ["job_id", "page_number", "block_id", "line_id", "engine", "text"])
    if lines is None:
        return {}
    return {job_id: engine_texts_of(job_lines.sort_values(["page_number", "line_id"]))
            for job_id, job_lines in lines.to_pandas().groupby("job_id")}


def engine_texts_of(lines) -> dict[str, str]:
    every_line = lines[["page_number", "line_id"]].drop_duplicates().shape[0]
    return {engine: "\n".join(_page_text(page) for _, page in group.groupby("page_number"))
            for engine, group in lines.groupby("engine") if len(group) == every_line and engine != "ensemble"}


def _page_text(lines) -> str:
    blocks = [Block(bbox=(0, 0, 1, 1), lines=[Line(text=text, bbox=(0, 0, 1, 1), confidence=0, engine="")
                                              for text in block.text])
              for _, block in lines.groupby("block_id", sort=False)]
    return page_text(blocks)


def measure_job(truth: GroundTruth, job: ParsedJob, page_texts: dict[str, dict[int, str]],
                engine_texts: dict[str, dict[str, str]]) -> DocumentMeasurement:
    measured = DocumentMeasurement(document=str(truth.document), status=job.status, error=job.error,
                                   pages=job.num_pages, seconds=job.duration_ms / 1000)
    if job.status == "failed":
        return measured
    if job.job_id not in page_texts:
        return measured.model_copy(update={"status": "error", "error": "no rows in the pages dataset"})
    pages = page_texts[job.job_id]
    page_score, document_score = score_pages(truth, [pages.get(n, "") for n in range(1, job.num_pages + 1)])
    engine_scores = {engine: score(truth.text, text) for engine, text in engine_texts.get(job.job_id, {}).items()}
    return measured.model_copy(update={"page_score": page_score, "document_score": document_score,
                                       "engine_scores": engine_scores})


# --- peers: one `python -m tasks.bench.peers NAME` child per peer ------------------------------------------------


def peer_command(name: str, documents: Sequence[Path], options: BenchOptions) -> list[str]:
    return [sys.executable, "-m", "tasks.bench.peers", name, "--dpi", str(options.dpi), *map(str, documents)]


def measure_peer(truths: Sequence[GroundTruth], options: BenchOptions, name: str) -> RunMeasurement:
    peer = PEERS[name]
    if why := peer.missing():
        return RunMeasurement(run=name, peer=True, installed=False, error=why, documents=[], total=total([]))
    child = run_child(peer_command(name, [truth.document for truth in truths], options),
                      options.timeout_s * len(truths), env={**os.environ, **peer.env})
    read = {each.document: each for each in peer_documents(child.stdout)}
    crash = describe_failure(child) if child.returncode != 0 or len(read) < len(truths) else None
    documents = [
        measure_peer_document(truth, each) if (each := read.get(str(truth.document)))
        else unread(truth, f"not read: the {name} child stopped before it ({crash})")
        for truth in truths
    ]
    return run_measurement(name, True, documents, child, f"the {name} child crashed: {crash}" if crash else None)


def peer_documents(stdout: str) -> list[PeerDocument]:
    """The child's result lines; anything else a library printed on stdout is passed over."""
    documents = []
    for line in stdout.splitlines():
        try:
            documents.append(PeerDocument.model_validate_json(line))
        except ValidationError:
            continue
    return documents


def measure_peer_document(truth: GroundTruth, read: PeerDocument) -> DocumentMeasurement:
    measured = DocumentMeasurement(document=str(truth.document), status=read.status, error=read.error,
                                   pages=len(read.pages), seconds=read.seconds)
    if read.status != "completed":
        return measured
    page_score, document_score = score_pages(truth, read.pages)
    return measured.model_copy(update={"page_score": page_score, "document_score": document_score})
