"""`docuforge bench`: make degraded scans with exact ground truth, and measure the pipeline's accuracy and speed."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from tasks.bench.degrade import DEFAULT_KINDS, DEGRADATIONS, degrade_pdf
from tasks.bench.groundtruth import Part, find_documents, is_held_out, select_part
from tasks.bench.metrics import TextScore
from tasks.bench.ocr import (
    BenchOptions, BenchReport, DocumentMeasurement, RunMeasurement, best_peer, measure_docuforge, measure_peer, ratio,
)
from tasks.bench.peers import PEERS
from tasks.errors import EmptyDocument
from tasks.models import LineDetector

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


def ratio_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def document_label(document: str, directory: str) -> str:
    return Path(document).relative_to(directory).as_posix()


def run_status(run: RunMeasurement) -> str:
    if not run.installed:
        return "not installed"
    return f"{run.total.status}, crashed" if run.error else run.total.status


def document_cell(measured: DocumentMeasurement | None) -> str:
    if measured is None or measured.status in ("error", "skipped"):
        return measured.status if measured else "–"
    return percent(score_of(measured.document_score, "cer"))


def documents_table(report: BenchReport) -> Table:
    """Each document's CER in every run, side by side."""
    table = Table(title=f"CER per document ({report.directory}, part {report.options.part})")
    table.add_column("document", no_wrap=True)
    for run in report.runs:
        table.add_column(run.run, justify="right")
    by_run = [{each.document: each for each in run.documents} for run in report.runs]
    for document in report.documents:
        table.add_row(document_label(document, report.directory), *(document_cell(rows.get(document)) for rows in by_run))
    return table


COMPARISON_HEADERS = ("run", "documents", "pages", "CER", "F1", "pages/min", "wall s", "peak RSS MB", "CER × best",
                      "speed × best")


def comparison_table(report: BenchReport) -> Table:
    """Every run on the same documents, with its ratios against the best peer; then each engine alone on the lines
    of the run it voted in."""
    options = report.options
    table = Table(title=f"docuforge bench ocr {report.directory}: part {options.part}, {len(report.documents)} "
                        f"documents, dpi {options.dpi}, tables {'on' if options.tables else 'off'}, figures "
                        f"{'on' if options.figures else 'off'} (whole-document scores)")
    for header in COMPARISON_HEADERS:
        table.add_column(header, justify="left" if header == "run" else "right")
    for run in report.runs:
        ratios = report.ratios.get(run.run)
        table.add_row(run.run, run_status(run), str(run.total.pages), percent(run.cer),
                      number(score_of(run.total.document_score, "f1"), 3), number(run.total.pages_per_min, 1),
                      number(run.wall_s, 1), number(run.peak_rss_mb, 0), ratio_cell(ratios and ratios.cer),
                      ratio_cell(ratios and ratios.speed))
    best = best_peer(report.runs)
    for run in report.runs:
        for engine, engine_score in sorted(run.total.engine_scores.items()):
            table.add_row(f"engine {engine} (lines of {run.run})", "", "", percent(engine_score.cer),
                          number(engine_score.f1, 3), "", "", "", ratio_cell(ratio(engine_score.cer, best and best.cer)),
                          "")
    return table


def parse_peers(value: str) -> tuple[list[str], bool]:
    """The peers asked for, and whether they were named: a named peer that is not installed fails the bench, one
    brought in by `all` is only reported."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["all"]:
        return list(PEERS), False
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(PEERS)} or all",
                                 param_hint="--peer")
    return names, True


def print_errors(report: BenchReport) -> None:
    for run in report.runs:
        if run.error:
            console.print(f"[red]{run.run}[/]: {run.error}")
        for row in run.documents:
            if row.error and row.status != "skipped" and not run.error:
                console.print(f"[red]{document_label(row.document, report.directory)}[/] ({run.run}): {row.error}")


def print_ratio_note(report: BenchReport) -> None:
    if report.best_peer:
        console.print(f"× best: against {report.best_peer}, the peer with the lowest CER of those that read every "
                      "document (CER × below 1: more accurate; speed × above 1: faster). pages/min: over the summed "
                      "per-document OCR time (process start-up excluded; wall s includes it)")
    elif report.options.peers:
        console.print("no ratios: no peer read every document")


@bench_app.command()
def ocr(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of documents with ground truth")],
    out_json: Annotated[Optional[Path], typer.Option(dir_okay=False, help="Also write the report as JSON")] = None,
    dpi: Annotated[int, typer.Option(min=50, max=1200, help="Resolution pages are rendered at for OCR")] = 300,
    modes: Annotated[str, typer.Option(help="Docuforge OCR modes to run, comma-separated (fast, auto, ensemble)")] = "auto",
    peer: Annotated[str, typer.Option(
        "--peer", help=f"What users would run instead, side by side on the same documents, comma-separated: "
                       f"{', '.join(PEERS)}, or all (those installed)")] = "",
    part: Annotated[Part, typer.Option(
        help="tune, holdout or all: held out are the documents whose crc32(file stem) % 4 == 0; tune on tune, "
             "report on holdout")] = "all",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N documents of the part, in path order")] = None,
    timeout: Annotated[float, typer.Option(
        min=1, help="Seconds per document: a run's child process is killed after this times its document count")] = 1800,
    tables: Annotated[bool, typer.Option(help="Docuforge also finds tables (off by default: OCR is measured)")] = False,
    figures: Annotated[bool, typer.Option(help="Docuforge also finds figures (off by default: OCR is measured)")] = False,
    line_detector: Annotated[LineDetector, typer.Option(
        help="Docuforge's line detector in auto and ensemble modes: paddle or tesseract")] = "paddle",
) -> None:
    """Score Docuforge's modes and its peers on the same documents with ground truth: one child process per mode and
    per peer for all documents; CER, F1, pages/min, and ratios against the best peer."""
    peers, named = parse_peers(peer)
    try:
        options = BenchOptions(dpi=dpi, modes=[mode.strip() for mode in modes.split(",")], peers=peers,
                               timeout_s=timeout, tables=tables, figures=figures, part=part, limit=limit,
                               line_detector=line_detector)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--modes") from exc
    truths = select_part(find_documents(directory), part, limit)
    if not truths:
        console.print(f"[red]no documents with ground truth (X.gt.txt or X.pdftotext.txt) in part {part} under "
                      f"{directory}[/]")
        raise typer.Exit(1)
    console.print(f"part {part}: {len(truths)} documents under {directory}")
    runs = []
    for mode in options.modes:
        with console.status(f"docuforge {mode}: {len(truths)} documents in one child process"):
            runs.append(measure_docuforge(truths, options, mode))
    for name in options.peers:
        with console.status(f"{name}: {len(truths)} documents in one child process"):
            runs.append(measure_peer(truths, options, name))
    report = BenchReport(directory=str(directory), options=options, documents=[str(t.document) for t in truths],
                         runs=runs)
    console.print(documents_table(report))
    console.print(comparison_table(report))
    print_ratio_note(report)
    print_errors(report)
    if out_json:
        out_json.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if any(run.failed and (named or run.installed) for run in runs):
        raise typer.Exit(1)


@bench_app.command()
def calibrate(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of scans with ground truth")],
    out: Annotated[Path, typer.Option(dir_okay=False, help="Where the fitted maps go (the package's file: "
                                                           "tasks/ocr/calibration.json)")],
    part: Annotated[Part, typer.Option(help="Fit on this part (tune: never on the held-out documents)")] = "tune",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N documents of the part")] = None,
    dpi: Annotated[int, typer.Option(min=50, max=1200, help="Resolution PDF pages are rendered at")] = 300,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per document before the run is killed")] = 1800,
) -> None:
    """Fit each OCR engine's confidence → probability map on scans with known text (every engine reads every line
    in ensemble mode) and write the maps the vote uses."""
    from tasks.bench.calibrate import calibrate as fit_on, write_calibration

    truths = select_part(find_documents(directory), part, limit)
    if not truths:
        console.print(f"[red]no documents with ground truth in part {part} under {directory}[/]")
        raise typer.Exit(1)
    with console.status(f"docuforge ensemble: {len(truths)} documents"):
        fits = fit_on(truths, BenchOptions(dpi=dpi, timeout_s=timeout, part=part, limit=limit))
    table = Table(title=f"Calibration on {len(truths)} documents ({part} part of {directory.name})")
    for header in ("engine", "characters", "right", "raw confidence → probability right"):
        table.add_column(header, justify="left" if header.startswith(("engine", "raw")) else "right")
    for fit in fits:
        knots = ", ".join(f"{raw:.2f}→{p:.2f}" for raw, p in zip(fit.calibration.raw, fit.calibration.probability))
        table.add_row(fit.engine, str(fit.characters), percent(fit.accuracy), knots)
    console.print(table)
    write_calibration(out, fits, f"{len(truths)} documents, {part} part of {directory.name}")
    console.print(f"wrote {out}")


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
    extract_bench(out, schema="receipt", out=None, images=True, render_dpi=None, part="all", limit=None)


@bench_app.command("extract")
def extract_bench(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of X.pdf with X.json truth")],
    schema: Annotated[str, typer.Option(help="Schema JSON file, or a bundled schema's name")] = "invoice",
    out: Annotated[Optional[Path], typer.Option(file_okay=False, help="Results root (default: a temporary one)")] = None,
    images: Annotated[bool, typer.Option(help="Also score the image renders (X.png: the OCR path)")] = False,
    render_dpi: Annotated[Optional[int], typer.Option(min=72, max=600, help="Render every X.pdf at this dpi to an "
                                                      "image-only PDF first, and score those (the OCR path)")] = None,
    part: Annotated[Part, typer.Option(
        help="tune, holdout (a fixed quarter of the documents, by name: report on it, never tune on it) or all")] = "all",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N documents of the part, in path order")] = None,
) -> None:
    """Extract the schema's fields from every document with an X.json (or X.entities.json: real receipts) and score
    exact match per field (array fields: line precision and recall)."""
    import tempfile

    from flows.extraction import extract_document
    from tasks.bench.extract import (
        DocumentScore, exact_match, line_match, mean_similarity, pair_f1, render_scans, score_document, truth_of,
        truth_path,
    )
    from tasks.extract.job import resolve_schema

    spec = resolve_schema(schema)
    if render_dpi:
        renders = Path(tempfile.mkdtemp(prefix="docuforge-renders-"))
        with console.status(f"rendering {directory} at {render_dpi} dpi into {renders}"):
            render_scans(directory, render_dpi, renders)
        directory = renders
    suffixes = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"} if images else {".pdf"}
    documents = [p for p in sorted(directory.iterdir()) if p.suffix.lower() in suffixes and truth_path(p)
                 and (part == "all" or is_held_out(p) == (part == "holdout"))][:limit]
    if not documents:
        console.print(f"[red]no documents with X.json or X.entities.json ground truth in part {part} under "
                      f"{directory}[/]")
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
    precision, recall, f1 = pair_f1(scores)
    if any(row.pairs for row in scores):
        console.print(f"form pairs (question → answer): precision {percent(precision)}, recall {percent(recall)}, "
                      f"F1 {percent(f1)}")
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
