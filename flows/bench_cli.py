"""`docuforge bench`: make degraded scans with exact ground truth, and measure the pipeline's accuracy and speed."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from tasks.bench.degrade import DEFAULT_KINDS, DEGRADATIONS, degrade_pdf
from tasks.bench.groundtruth import find_documents
from tasks.bench.metrics import TextScore
from tasks.bench.ocr import BenchOptions, BenchReport, DocumentMeasurement, measure_document, total
from tasks.errors import EmptyDocument

bench_app = typer.Typer(
    help="Benchmarks on documents with known text: make degraded scans of them, measure OCR accuracy and speed.",
    no_args_is_help=True,
)
console = Console()


def parse_kinds(kinds: str) -> list[str]:
    chosen = [kind.strip() for kind in kinds.split(",") if kind.strip()]
    unknown = [kind for kind in chosen if kind not in DEGRADATIONS]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown {unknown or 'empty list'}; choose from {', '.join(DEGRADATIONS)}")
    return chosen


@bench_app.command()
def degrade(
    src_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of born-digital PDFs")],
    out_dir: Annotated[Path, typer.Argument(file_okay=False, help="Where the scanned PDFs and their truth go")],
    dpi: Annotated[int, typer.Option(min=30, max=1200, help="Resolution the pages are scanned at")] = 300,
    kinds: Annotated[
        str, typer.Option(help=f"Comma-separated degradations, from: {', '.join(DEGRADATIONS)}")
    ] = ",".join(DEFAULT_KINDS),
    pages: Annotated[Optional[int], typer.Option(min=1, help="Use only each source's first N pages")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Repeat the pages K times, to make long documents")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the random degradations")] = 0,
) -> None:
    """Render each PDF's pages, degrade them, and write image-only PDFs named <stem>.<kind>.pdf with <stem>.<kind>.gt.txt."""
    chosen = parse_kinds(kinds)
    for source in sorted(src_dir.glob("*.pdf")):
        with console.status(f"degrading {source.name}"):
            try:
                written = degrade_pdf(source, out_dir, chosen, dpi=dpi, max_pages=pages, repeat=repeat, seed=seed)
            except EmptyDocument as error:
                console.print(f"[yellow]skipped[/]: {error}")
                continue
        for path in written:
            console.print(f"wrote {path}")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def score_of(score: TextScore | None, metric: str) -> float | None:
    return None if score is None else getattr(score, metric)


COLUMNS: list[tuple[str, Callable[[DocumentMeasurement], str]]] = [
    ("status", lambda row: row.status),
    ("pages", lambda row: str(row.pages)),
    ("CER page", lambda row: percent(score_of(row.page_score, "cer"))),
    ("CER doc", lambda row: percent(score_of(row.document_score, "cer"))),
    ("F1 page", lambda row: number(score_of(row.page_score, "f1"), 3)),
    ("F1 doc", lambda row: number(score_of(row.document_score, "f1"), 3)),
    ("pages/s", lambda row: number(row.pages_per_s)),
    ("wall pages/s", lambda row: number(row.wall_pages_per_s)),
    ("peak RSS MB", lambda row: number(row.peak_rss_mb, 0)),
]


def report_table(report: BenchReport) -> Table:
    table = Table(title=f"docuforge bench ocr {report.directory} (dpi {report.options.dpi}, {report.options.ocr_mode})")
    table.add_column("document", no_wrap=True)
    for header, _ in COLUMNS:
        table.add_column(header, justify="right")
    for row in report.documents:
        table.add_row(row.document, *(cell(row) for _, cell in COLUMNS))
    table.add_section()
    table.add_row(report.total.document, *(cell(report.total) for _, cell in COLUMNS), style="bold")
    return table


def comparison_table(reports: list[BenchReport]) -> Table:
    """Modes side by side on the same pages, and each engine alone on the same lines (from the ensemble run)."""
    table = Table(title="modes and engines on the same pages (whole-document scores)")
    for header in ("run", "CER", "F1", "pages/s", "peak RSS MB"):
        table.add_column(header, justify="left" if header == "run" else "right")
    for report in reports:
        row = report.total
        table.add_row(f"mode {report.options.ocr_mode}", percent(score_of(row.document_score, "cer")),
                      number(score_of(row.document_score, "f1"), 3), number(row.pages_per_s),
                      number(row.peak_rss_mb, 0))
    for report in reports:
        for engine, engine_score in sorted(report.total.engine_scores.items()):
            table.add_row(f"engine {engine} (lines of the {report.options.ocr_mode} run)", percent(engine_score.cer),
                          number(engine_score.f1, 3), "", "")
    return table


@bench_app.command()
def ocr(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of documents with ground truth")],
    out_json: Annotated[Optional[Path], typer.Option(dir_okay=False, help="Also write the report as JSON")] = None,
    dpi: Annotated[int, typer.Option(min=50, max=1200, help="Resolution pages are rendered at for OCR")] = 300,
    modes: Annotated[str, typer.Option(help="OCR modes to run, comma-separated (fast, auto, ensemble)")] = "auto",
    timeout: Annotated[float, typer.Option(min=1, help="Seconds before one document's run is killed")] = 1800,
) -> None:
    """Run docuforge parse on every document with ground truth (each in a fresh process, once per mode) and score it."""
    documents = find_documents(directory)
    if not documents:
        console.print(f"[red]no documents with ground truth (X.gt.txt or X.pdftotext.txt) under {directory}[/]")
        raise typer.Exit(1)
    try:
        options = [BenchOptions(dpi=dpi, ocr_mode=mode.strip(), timeout_s=timeout) for mode in modes.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--modes") from exc
    reports = [_run_mode(directory, documents, each) for each in options]
    for report in reports:
        console.print(report_table(report))
        for row in report.documents:
            if row.error:
                console.print(f"[red]{row.document}[/] ({report.options.ocr_mode}): {row.error}")
    console.print(comparison_table(reports))
    if out_json:
        out_json.write_text(TypeAdapter(list[BenchReport]).dump_json(reports, indent=2).decode(), encoding="utf-8")
    if any(row.status == "error" for report in reports for row in report.documents):
        raise typer.Exit(1)


def _run_mode(directory: Path, documents: list, options: BenchOptions) -> BenchReport:
    measurements = []
    for truth in documents:
        label = str(truth.document.relative_to(directory))
        with console.status(f"parsing {label} ({options.ocr_mode})"):
            measurements.append(measure_document(truth, options, label))
    return BenchReport(directory=str(directory), options=options, documents=measurements, total=total(measurements))


@bench_app.command()
def tables(
    directory: Annotated[Path, typer.Argument(
        exists=True, file_okay=False, help="The benchmarks' tables folder, or its pubtabnet or icdar2013 subfolder")],
    out_json: Annotated[Optional[Path], typer.Option(dir_okay=False, help="Also write the report as JSON")] = None,
) -> None:
    """Score table structure: TEDS on pubtabnet images, ICDAR 2013 cell-adjacency F1 on icdar2013 PDFs."""
    from tasks.bench.tables import run_benchmark

    with console.status(f"finding tables under {directory}"):
        report = run_benchmark(directory)
    if not report.documents:
        console.print(f"[red]no pubtabnet or icdar2013 ground truth under {directory}[/]")
        raise typer.Exit(1)
    for dataset, summary in report.summary.items():
        rows = [row for row in report.documents if row.dataset == dataset]
        metric = "TEDS" if dataset == "pubtabnet" else "adjacency"
        table = Table(title=f"docuforge bench tables {dataset} ({metric})")
        table.add_column("document", no_wrap=True)
        headers = (["TEDS", "struct"] if dataset == "pubtabnet" else ["P", "R", "F1", "pages"])
        for header in [*headers, "found", "s", "status"]:
            table.add_column(header, justify="right")
        for row in rows:
            if dataset == "pubtabnet":
                scores = [number(row.teds, 3), number(row.teds_struct, 3)]
            else:
                a = row.adjacency
                scores = [number(a and a.precision, 3), number(a and a.recall, 3), number(a and a.f1, 3),
                          str(row.pages)]
            table.add_row(row.document, *scores, f"{row.tables_found}/{row.tables_truth}", number(row.seconds),
                          row.status)
        table.add_section()
        if dataset == "pubtabnet":
            means = [number(summary["teds"], 3), number(summary["teds_struct"], 3)]
        else:
            means = [number(summary["adjacency_precision"], 3), number(summary["adjacency_recall"], 3),
                     number(summary["adjacency_f1"], 3), str(sum(row.pages for row in rows))]
        table.add_row("mean", *means, "", "", "", style="bold")
        console.print(table)
        if dataset == "pubtabnet":
            console.print("struct: TEDS on structure only (cell text ignored); found: tables found / in the truth")
        else:
            console.print("P, R, F1: cell-adjacency precision, recall, F1; found: tables found / in the truth; "
                          f"pooled F1 (all relations of all documents): {number(summary['adjacency_f1_pooled'], 3)}")
        console.print(f"{dataset}: {number(summary['seconds_per_page'])} s per page")
    for row in report.documents:
        if row.error:
            console.print(f"[red]{row.document}[/]: {row.error}")
    if out_json:
        out_json.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if any(row.status == "error" for row in report.documents):
        raise typer.Exit(1)


@bench_app.command()
def stack(
    uploads: Annotated[int, typer.Option(min=1, max=500, help="Objects uploaded, one at a time")] = 20,
    keep: Annotated[Optional[Path], typer.Option(file_okay=False, help="Keep the stack's files and logs here")] = None,
) -> None:
    """Event → flow-run latency on a local stack (Prefect server and worker, moto S3/SQS, the S3 bridge)."""
    import tempfile

    from deployments.local_stack import LocalStack
    from deployments.stack_bench import measure_event_latency

    root = keep or Path(tempfile.mkdtemp(prefix="docuforge-stack-"))
    with console.status("starting the stack"), LocalStack(root) as running:
        console.print(f"stack up: Prefect {running.api_url}, S3/SQS {running.s3_endpoint}; logs in {root}/logs")
        with console.status(f"uploading {uploads} objects, one at a time"):
            report = measure_event_latency(running, uploads)
    table = Table(title=f"docuforge bench stack ({uploads} uploads)")
    for column in ("upload → run created (s)", "upload → run running (s)"):
        table.add_column(column, justify="right")
    for sample in report.samples:
        table.add_row(number(sample.created_s), number(sample.started_s))
    table.add_section()
    table.add_row(number(report.median_created_s), number(report.median_started_s), style="bold")
    console.print(table)
    console.print(f"median upload → running: {report.median_started_s:.2f} s (max {report.max_started_s:.2f} s); "
                  "'running' is the worker's flow-run process having started the flow")


@bench_app.command("batch")
def batch_bench(
    documents: Annotated[int, typer.Option(min=1, max=10000, help="Generated one-page scans in the batch")] = 100,
    batch_size: Annotated[int, typer.Option(min=1, help="Documents processed at once")] = 4,
    out: Annotated[Optional[Path], typer.Option(file_okay=False, help="Where the scans and results go")] = None,
) -> None:
    """Generate small scans and run the batch flow over them; count the documents rows and the documents/min."""
    import tempfile
    import time

    from flows.batch import batch
    from tasks.bench.scans import make_scans
    from tasks.store import ResultsStore

    root = out or Path(tempfile.mkdtemp(prefix="docuforge-batch-"))
    with console.status(f"generating {documents} scans"):
        scans = make_scans(root / "scans", documents)
    started = time.perf_counter()
    with console.status(f"processing {documents} documents, {batch_size} at once"):
        summary = batch(sources=[str(path) for path in scans], batch_size=batch_size,
                        results_uri=str(root / "results"))
    minutes = (time.perf_counter() - started) / 60
    rows = ResultsStore(str(root / "results")).read("documents").to_pylist()
    statuses = {status: sum(row["status"] == status for row in rows) for status in sorted({r["status"] for r in rows})}
    console.print(f"batch {summary.batch_id}: {len(rows)} documents rows for {documents} scans {statuses}; "
                  f"{documents / minutes:.1f} documents/min ({minutes:.2f} min, flow included); results in {root}")
    if len(rows) != documents:
        raise typer.Exit(1)


@bench_app.command("receipts")
def receipts_bench(
    out: Annotated[Path, typer.Argument(file_okay=False, help="Folder the receipts are written to")],
    count: Annotated[int, typer.Option(min=1, help="How many receipts")] = 10,
    seed: Annotated[int, typer.Option(help="The same seed writes the same receipts")] = 1,
) -> None:
    """Synthetic scanned receipts (PNG + JSON truth: company, date, address, total) from six countries, then the
    receipt schema's extraction scored on them through the OCR path."""
    from tasks.bench.receipts import generate_receipts

    with console.status(f"writing {count} receipts to {out}"):
        generate_receipts(out, count, seed)
    extract_bench(out, schema="receipt", out=None, images=True, render_dpi=None)


@bench_app.command("extract")
def extract_bench(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of X.pdf with X.json truth")],
    schema: Annotated[str, typer.Option(help="Schema JSON file, or a bundled schema's name")] = "invoice",
    out: Annotated[Optional[Path], typer.Option(file_okay=False, help="Results root (default: a temporary one)")] = None,
    images: Annotated[bool, typer.Option(help="Also score the image renders (X.png: the OCR path)")] = False,
    render_dpi: Annotated[Optional[int], typer.Option(min=72, max=600, help="Render every X.pdf at this dpi to an "
                                                      "image-only PDF first, and score those (the OCR path)")] = None,
) -> None:
    """Extract the schema's fields from every document with an X.json and score exact match per field (array
    fields: line precision and recall)."""
    import tempfile

    from flows.extraction import extract_document
    from tasks.bench.extract import (
        DocumentScore, exact_match, line_match, mean_similarity, render_scans, score_document, truth_of,
    )
    from tasks.extract.job import resolve_schema

    spec = resolve_schema(schema)
    if render_dpi:
        renders = Path(tempfile.mkdtemp(prefix="docuforge-renders-"))
        with console.status(f"rendering {directory} at {render_dpi} dpi into {renders}"):
            render_scans(directory, render_dpi, renders)
        directory = renders
    suffixes = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"} if images else {".pdf"}
    documents = sorted(p for p in directory.iterdir()
                       if p.suffix.lower() in suffixes and p.with_suffix(".json").exists())
    if not documents:
        console.print(f"[red]no documents with X.json ground truth under {directory}[/]")
        raise typer.Exit(1)
    root = str(out or tempfile.mkdtemp(prefix="docuforge-bench-extract-"))
    scores = []
    for document in documents:
        with console.status(f"extracting {document.name}"):
            state = extract_document(source=str(document), fields_schema=spec.model_dump(), results_uri=root,
                                     return_state=True)
        summary = state.result(raise_on_failure=False)
        if state.is_failed():
            scores.append(DocumentScore(document=document.name, fields=[], error=str(state.message)))
            continue
        scores.append(score_document(document.name, spec, truth_of(document), summary.fields))
    table = Table(title=f"docuforge bench extract {directory} (schema {spec.name or schema} v{spec.version})")
    names = [field.name for field in spec.fields if field.type != "array"]
    table.add_column("document", no_wrap=True)
    for name in names:
        table.add_column(name)
    for row in scores:
        cells = {f.field_name: ("[green]✓[/] " if f.match else f"[red]✗[/] {f.got} ≠ ") + str(f.expected)
                 for f in row.fields}
        table.add_row(row.document, *(cells.get(name, "–") for name in names))
    per_field, overall = exact_match(scores)
    table.add_section()
    table.add_row("exact match", *(percent(per_field.get(name)) for name in names), style="bold")
    console.print(table)
    console.print(f"overall field exact match: [bold]{percent(overall)}[/] "
                  f"({sum(len(r.fields) for r in scores)} fields scored); results in {root}")
    for name, similarity in mean_similarity(scores).items():
        console.print(f"{name}: mean text similarity {similarity:.3f} (rapidfuzz ratio, beside exact match)")
    for name, (precision, recall) in line_match(scores).items():
        counts = [sum(getattr(line, k) for r in scores for line in r.lines if line.field_name == name)
                  for k in ("matched", "got", "expected")]
        console.print(f"{name}: line precision {percent(precision)}, recall {percent(recall)} "
                      f"({counts[0]} matched of {counts[1]} found, {counts[2]} expected)")
    for row in scores:
        if row.error:
            console.print(f"[red]{row.document}[/]: {row.error}")
    if any(row.error for row in scores):
        raise typer.Exit(1)
