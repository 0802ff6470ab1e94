"""The `docuforge` command: runs the flows locally on Prefect's ephemeral API. No logic of its own."""
from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import json  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from flows.bench_cli import bench_app  # noqa: E402
from tasks.models import EnhanceOptions, JobSummary, LineDetector, OcrMode, ProcessOptions, parse_page_ranges  # noqa: E402
from tasks.settings import get_settings  # noqa: E402

if TYPE_CHECKING:
    from tasks.batch import BatchSummary

app = typer.Typer(help="Docuforge: documents in, Parquet out — text layer or OCR, on Prefect.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(bench_app, name="bench", help="Measure accuracy and speed on documents with ground truth.")
out_console = Console()
err_console = Console(stderr=True)
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _split_engines(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from tasks.ocr import ENGINES

    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINES]
    if not names or unknown:
        raise typer.BadParameter(f"unknown engine(s) {', '.join(unknown) or '(none given)'}; known: "
                                 f"{', '.join(ENGINES)}")
    return names


def _check_pages(spec: str | None) -> str | None:
    try:
        parse_page_ranges(spec, 1)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return spec


@app.command()
def parse(
    inputs: Annotated[list[str], typer.Argument(help="Files or URIs: path, file://, s3://bucket/key, http(s)://")],
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix "
                                                 "(default: $DOCUFORGE_RESULTS_URI, else ./docuforge-data/results)")] = None,
    dpi: Annotated[int, typer.Option(min=50, max=1200, help="Resolution for rendering pages to OCR")] = 300,
    pages: Annotated[str | None, typer.Option(help="Page ranges, e.g. 1-3,7", callback=_check_pages)] = None,
    ocr_mode: Annotated[OcrMode, typer.Option(help="fast, auto or ensemble")] = "auto",
    lang: Annotated[str, typer.Option(help="OCR language(s), e.g. eng or eng+deu")] = "eng",
    engines: Annotated[str | None, typer.Option(
        help="OCR engines that vote in auto and ensemble modes, comma-separated (default: tesseract,paddle,easyocr); "
             "the line detector's engine always reads", callback=_split_engines)] = None,
    line_detector: Annotated[LineDetector, typer.Option(
        help="auto and ensemble modes: paddle (PP-OCR's text detector) or tesseract (its page layout) finds the "
             "lines every engine reads; fast mode is Tesseract's own layout")] = "paddle",
    deskew: Annotated[bool, typer.Option(help="Straighten slightly rotated scans")] = True,
    denoise: Annotated[bool, typer.Option(help="Remove speckle noise from scans")] = False,
    binarize: Annotated[bool, typer.Option(help="Black-and-white thresholding of scans")] = False,
    tables: Annotated[bool, typer.Option(help="Find tables (cells, HTML, Markdown)")] = True,
    figures: Annotated[bool, typer.Option(help="Find figures and store a crop of each")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job summaries as JSON")] = False,
) -> None:
    """Parse documents into the results dataset; exit 1 if any document failed."""
    options = ProcessOptions(dpi=dpi, pages=pages, ocr_mode=ocr_mode, language=lang, tables=tables, figures=figures,
                             line_detector=line_detector,
                             enhance=EnhanceOptions(deskew=deskew, denoise=denoise, binarize=binarize),
                             **({"engines": engines} if engines else {}))
    summaries = run_documents(inputs, options, out or get_settings().results_uri, show_progress=not as_json)
    if as_json:
        print(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    else:
        print_summary(summaries)
    raise typer.Exit(0 if all(s.status == "completed" for s in summaries) else 1)


@app.command()
def extract(
    inputs: Annotated[list[str], typer.Argument(help="Files or URIs: path, file://, s3://bucket/key, http(s)://")],
    schema: Annotated[str | None, typer.Option(
        help="Extraction schema: a JSON file (Docuforge's format or JSON Schema), or a bundled schema's name: "
             "invoice (default), receipt")] = None,
    auto: Annotated[bool, typer.Option(
        "--auto", help="Every key → value pair of the forms (label: value, label above value, checkboxes); with "
                       "--schema, besides its fields")] = False,
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix "
                                                 "(default: $DOCUFORGE_RESULTS_URI, else ./docuforge-data/results)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the extractions as JSON")] = False,
) -> None:
    """Extract a schema's fields (rows in `fields`, each with its citation); exit 1 if a document failed or a
    field is invalid."""
    from flows.extraction import extract_document
    from tasks.errors import DocuforgeError
    from tasks.extract.job import resolve_schema

    _quiet_run_logs()
    try:
        spec = resolve_schema(schema or ("auto" if auto else None))
    except DocuforgeError as exc:
        raise typer.BadParameter(exc.message, param_hint="--schema") from exc
    spec.auto = spec.auto or auto
    summaries, ran = _each_source(inputs, lambda source: extract_document(
        source=source, fields_schema=spec.model_dump(), results_uri=out or get_settings().results_uri,
        return_state=True))
    _report(summaries, ran and all(summary.status == "completed" for summary in summaries), as_json, print_fields)


def _each_source(inputs: list[str], run) -> tuple[list, bool]:
    """Each source's flow run (`run(source)` returns its state): the results, and whether no run failed (a failed
    run's error is printed)."""
    results, ok = [], True
    for source in inputs:
        state = run(source)
        result = state.result(raise_on_failure=False)
        if state.is_failed():
            print_error(result.error_category, result.error or "", about=source)
            ok = False
            continue
        results.append(result)
    return results, ok


def _report(results: list, ok: bool, as_json: bool, show) -> None:
    """Print the results (as JSON, or each by `show`) and exit 1 unless all went well."""
    if as_json:
        print(json.dumps([result.model_dump(mode="json") for result in results], indent=2))
    else:
        for result in results:
            show(result)
    raise typer.Exit(0 if ok else 1)


@app.command()
def split(
    inputs: Annotated[list[str], typer.Argument(help="PDFs: path, file://, s3://bucket/key, http(s)://")],
    by: Annotated[list[str], typer.Option(
        "--by", help="Where to split (repeat to combine): pages:1-3,4-9 | every:N | outline[:LEVEL] | blank | "
                     "documents | max-pages:N")],
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix "
                                                 "(default: $DOCUFORGE_RESULTS_URI, else ./docuforge-data/results)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the splits as JSON")] = False,
) -> None:
    """Split PDFs into sections (rows in `sections`, one PDF each next to the results); exit 1 if any failed."""
    from flows.splitting import split_document
    from tasks.errors import DocuforgeError
    from tasks.split.criteria import criteria_from_specs

    try:
        criteria = criteria_from_specs(by)
    except DocuforgeError as exc:
        raise typer.BadParameter(exc.message, param_hint="--by") from exc
    _quiet_run_logs()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its notes on repaired cross-references are not failures
    with _lean_temporary_api():
        splits, ok = _each_source(inputs, lambda source: split_document(
            source=source, split_criteria=criteria, results_uri=out or get_settings().results_uri, return_state=True))
    _report(splits, ok, as_json, print_sections)


@app.command()
def edit(
    inputs: Annotated[list[str], typer.Argument(help="PDFs or images: path, file://, s3://bucket/key, http(s)://")],
    searchable: Annotated[bool, typer.Option(
        "--searchable",
        help="A searchable PDF: an invisible text layer of the OCR'd words on the original pages")] = False,
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix "
                                                 "(default: $DOCUFORGE_RESULTS_URI, else ./docuforge-data/results)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the edits as JSON")] = False,
) -> None:
    """Edit documents into new PDFs next to the results (a row each in `edits`); print each output's URI; exit 1
    if any failed or is not verified."""
    from flows.editing import edit_document
    from tasks.edit.request import Edits

    edits = Edits(searchable=searchable)
    if not edits.kinds():
        raise typer.BadParameter("choose an edit: --searchable", param_hint="--searchable")
    _quiet_run_logs()
    with _lean_temporary_api():
        summaries, ok = _each_source(inputs, lambda source: edit_document(
            source=source, edits=edits, results_uri=out or get_settings().results_uri, return_state=True))
    verified = all(row["verified"] for summary in summaries for row in summary.edits)
    _report(summaries, ok and verified, as_json, print_edits)


def print_edits(summary) -> None:
    """Each edit's output URI, with what changed and whether its text was verified."""
    for row in summary.edits:
        check = "[green]verified[/]" if row["verified"] else "[red]NOT verified[/]"
        out_console.print(f"{escape(row['output_uri'])}", soft_wrap=True, highlight=False)
        out_console.print(f"  [dim]{row['kind']}: {escape(row['changes'])}; CER {row['cer']:.4f}[/] {check}",
                          soft_wrap=True)


def print_sections(summary) -> None:
    """A heading for the document, then two lines a section: where it is and what it is, then its summary."""
    meta = summary.metadata
    dropped = f"; left out: pages {', '.join(map(str, meta.dropped_pages))}" if meta.dropped_pages else ""
    out_console.print(f"[bold]{escape(Path(summary.source_uri).name)}[/]: {meta.total_sections} sections of "
                      f"{meta.original_pages} pages{dropped}")
    for row in summary.sections:
        pages = f"p{row['page_start']}" if row["page_start"] == row["page_end"] else \
            f"p{row['page_start']}-{row['page_end']}"
        out_console.print(f"  {row['section_index'] + 1:>3}. {pages:<9} {row['section_type']:<11} "
                          f"{row['language'] or '-':<3} {row['word_count']:>6} words  "
                          f"{escape(row['output_uri'].rsplit('/', 1)[-1])}  [dim]({escape(row['boundary_reason'])})[/]",
                          soft_wrap=True)
        if row["summary"]:
            out_console.print(f"       [dim]{escape(row['summary'][:160])}[/]", overflow="ellipsis", no_wrap=True)
    if summary.sections:
        out_console.print(f"Section PDFs: [bold]{escape(summary.sections[0]['output_uri'].rsplit('/', 1)[0])}[/]",
                          soft_wrap=True)


def print_fields(summary) -> None:
    confidence = f"{summary.confidence:.2f}" if summary.confidence is not None else "-"
    table = Table(title=f"{escape(Path(summary.source_uri).name)}: {summary.status}, confidence {confidence}")
    for column in ("field", "value", "type", "method", "conf.", "page", "bbox", "valid"):
        table.add_column(column, justify="right" if column in {"conf.", "page"} else "left")
    for f in summary.fields:
        bbox = ",".join(f"{v:.2f}" for v in f.bbox) if f.bbox else "-"
        valid = "[green]✓[/]" if f.valid else f"[red]✗[/] {escape(f.error or '')}"
        table.add_row(f.field_name, escape(f.value or "-"), f.type, f.method,
                      f"{f.confidence:.2f}" if f.confidence is not None else "-", str(f.page_number or "-"), bbox, valid)
    out_console.print(table)


@app.command()
def demo(out: Annotated[str | None, typer.Option(help="Results root")] = None) -> None:
    """Parse the bundled sample documents and show where the results are."""
    samples = sorted(str(p) for p in SAMPLES.iterdir() if p.suffix in {".pdf", ".png", ".tif", ".jpg"})
    root = out or get_settings().results_uri
    summaries = run_documents(samples, ProcessOptions(), root, show_progress=True)
    print_summary(summaries)
    out_console.print(f"\nResults: [bold]{root}[/] (Parquet, hive-partitioned). Try:")
    out_console.print(f"  .venv/bin/python -c \"import pandas as pd; print(pd.read_parquet('{root}/pages')"
                      f"[['page_number', 'text_source', 'confidence', 'text']])\"", soft_wrap=True, markup=False)
    raise typer.Exit(0 if all(s.status == "completed" for s in summaries) else 1)


@app.command("batch")
def batch_command(
    inputs: Annotated[list[str], typer.Argument(help="Files or URIs: path, file://, s3://bucket/key")],
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="Documents processed at once (default: the batch flow's)")] = None,
    delay: Annotated[float | None, typer.Option(min=0, help="Seconds to wait between batches (default: none)")] = None,
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix")] = None,
) -> None:
    """Process documents as one batch (the batch flow): a row in `batches`, a report; exit 1 if any failed."""
    from flows.batch import batch

    _quiet_run_logs()
    given = {"batch_size": batch_size, "batch_delay_s": delay, "results_uri": out}
    summary = batch(sources=inputs, **{name: value for name, value in given.items() if value is not None})
    print_summary(summary.documents)
    print_batch_totals(summary)
    raise typer.Exit(0 if summary.status == "completed" else 1)


@app.command()
def ingest(
    prefix_uri: Annotated[str, typer.Argument(help="A local folder or s3://bucket/prefix (listed recursively)")],
    out: Annotated[str | None, typer.Option(help="Results root: a folder or s3://bucket/prefix")] = None,
) -> None:
    """Process the documents under a folder or S3 prefix that are not done yet (the scheduled-ingestion flow)."""
    from flows.ingestion import scheduled_ingestion
    from tasks.errors import DocuforgeError

    _quiet_run_logs()
    try:
        summary = scheduled_ingestion(prefix_uri=prefix_uri, results_uri=out)
    except DocuforgeError as exc:
        print_error(exc.category, exc.message)
        raise typer.Exit(1) from exc
    plan = summary.plan
    out_console.print(f"{plan.listed} listed, {plan.skipped} already done, {len(plan.pending)} to process, "
                      f"{plan.deferred} left for later")
    if summary.batch is not None:
        print_summary(summary.batch.documents)
        print_batch_totals(summary.batch)
    raise typer.Exit(0 if summary.batch is None or summary.batch.status == "completed" else 1)


def print_error(category: str | None, message: str, about: str | None = None) -> None:
    """One failure on one line: ✗ [category] message (about: the document it concerns)."""
    where = f"{escape(about)}: " if about else ""
    err_console.print(f"[red]✗[/] {where}\\[{category}] {escape(message)}")


class _NoRunLogs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("prefect.task_runs", "prefect.flow_runs"))


def _quiet_run_logs() -> None:
    """Each failure is reported once, by the summary: the runs' logs stay off the terminal, which would repeat it
    (they still reach the API, for the Prefect UI)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NoRunLogs) for f in handler.filters):
            handler.addFilter(_NoRunLogs())


def print_batch_totals(summary: BatchSummary) -> None:
    rate = f", {summary.documents_per_min} documents/min" if summary.documents_per_min is not None else ""
    out_console.print(f"Batch [bold]{summary.batch_id}[/]: {summary.completed} completed, {summary.partial} partial, "
                      f"{summary.failed} failed; {summary.pages} pages in {summary.duration_ms / 1000:.1f} s{rate}. "
                      f"Results: [bold]{escape(summary.results_uri)}[/]")


def run_documents(inputs: list[str], options: ProcessOptions, results_uri: str,
                  show_progress: bool) -> list[JobSummary]:
    """Each input through the process-document flow; one failure never stops the others."""
    from flows.pipeline import process_document
    from tasks import progress

    _quiet_run_logs()

    summaries = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=not show_progress, transient=False) as bar:
        documents = bar.add_task("documents", total=len(inputs))
        pages = bar.add_task("pages", total=None)

        counted: set[str] = set()

        def on_page(job, page, total):
            if job.job_id not in counted:
                counted.add(job.job_id)
                bar.update(pages, total=(bar.tasks[pages].total or 0) + total)
            bar.advance(pages)

        progress.add_listener(on_page)
        try:
            with _lean_temporary_api():
                for source in inputs:
                    state = process_document(source=source, options=options, results_uri=results_uri,
                                             return_state=True)
                    summaries.append(state.result(raise_on_failure=False))
                    bar.advance(documents)
        finally:
            progress.remove_listener(on_page)
    return summaries


TEMPORARY_API_STARTUP_S = 120


@contextmanager
def _lean_temporary_api() -> Iterator[None]:
    """The temporary API of a local run (no PREFECT_API_URL) without what only a server's users need; against a
    real server everything stays on.

    - Flow-run heartbeats let a server's automations find runs whose process died; here nothing reads them, and
      stopping each run's heartbeat thread cost up to a second a flow run (two a document).
    - Task runs are not recorded: on SQLite the recorder's bulk writes locked the database under the run's own
      requests, and each refused request waited two seconds before Prefect's client tried again (one document in
      two, measured on receipts). Flow runs, their states, logs, artifacts and events are still recorded.
    - It may take up to TEMPORARY_API_STARTUP_S to start: on two busy cores it took more than Prefect's 20 s.
    """
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED, get_current_settings, temporary_settings,
    )

    if get_current_settings().api.url:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                                     PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED: False,
                                     PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: TEMPORARY_API_STARTUP_S}):
        yield


def print_summary(summaries: list[JobSummary]) -> None:
    from tasks.report import text_sources_line

    table = Table(title="Docuforge results")
    for column in ("document", "status", "pages", "text source", "mean conf.", "seconds"):
        table.add_column(column, justify="right" if column in {"pages", "mean conf.", "seconds"} else "left")
    for s in summaries:
        confidence = f"{s.mean_confidence:.2f}" if s.mean_confidence is not None else "-"
        status = s.status if s.status == "completed" else f"[red]{s.status}[/] {s.error_category or ''}"
        table.add_row(Path(s.source_uri).name, status, str(s.num_pages), text_sources_line(s.text_sources), confidence,
                      f"{s.duration_ms / 1000:.1f}")
    out_console.print(table)
    for s in summaries:
        if s.error:
            print_error(s.error_category, s.error)


def _log_to_stderr(logger_name: str) -> None:
    """Rich on a terminal; one plain line per record in a log file."""
    from rich.logging import RichHandler

    logger = logging.getLogger(logger_name)
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        if err_console.is_terminal:
            handler: logging.Handler = RichHandler(console=err_console, show_path=False)
        else:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False


@app.command()
def init(
    results_uri: Annotated[str | None, typer.Option(
        help="Where results go: a folder or s3://bucket/prefix (default: $DOCUFORGE_RESULTS_URI, else "
             "./docuforge-data/results)")] = None,
    s3_endpoint: Annotated[str | None, typer.Option(
        help="S3 endpoint for an s3:// results root, e.g. MinIO or moto (default: $AWS_ENDPOINT_URL)")] = None,
    ocr_slots: Annotated[int | None, typer.Option(
        min=1, help="Pages OCR'd at once across all runs: the 'ocr' limit (default: kept if it exists, "
                    "else 2)")] = None,
    notify_url: Annotated[str | None, typer.Option(
        help="A webhook (Slack, Teams, any HTTP endpoint) error recovery POSTs to when it gives up on a job; kept as "
             "a secret in the docuforge-notify block (default: $DOCUFORGE_NOTIFY_URL, else an existing block is "
             "kept)")] = None,
) -> None:
    """Prepare the Prefect server ($PREFECT_API_URL): block types and default blocks, the docuforge work pool, the
    'ocr' concurrency limit and the automations. Safe to run again (after `prefect deploy --all`, it adds the
    automations whose deployments now exist). S3 credentials come from the standard AWS variables."""
    import httpx
    from prefect.settings import get_current_settings

    from deployments.init import init as prepare
    from tasks.fetch import redact_uri

    api = get_current_settings().api.url
    if not api:
        err_console.print("[yellow]![/] PREFECT_API_URL is not set: this prepares a temporary API that is gone when "
                          "init exits")
    try:
        steps = prepare(results_uri or get_settings().results_uri, ocr_slots, s3_endpoint=s3_endpoint,
                        notify_url=notify_url or get_settings().notify_url)
    except httpx.HTTPError as exc:
        err_console.print(f"[red]✗[/] the Prefect API at {escape(redact_uri(api or '(temporary)'))} did not answer: "
                          f"{type(exc).__name__}")
        raise typer.Exit(1) from exc
    table = Table(title=f"docuforge init: {escape(redact_uri(api or 'temporary API'))}")
    table.add_column("what")
    table.add_column("done")
    skipped = []
    for step in steps:
        action, _, why = step.action.partition(": ")
        table.add_row(escape(step.what), f"[{'yellow' if why else 'green'}]{escape(action)}[/]")
        if why:
            skipped.append(f"[yellow]![/] {escape(step.what)} {escape(step.action)}")
    out_console.print(table)
    for line in skipped:
        out_console.print(line, soft_wrap=True)


@app.command("s3-bridge")
def s3_bridge(
    queue_url: Annotated[str, typer.Option(help="The SQS queue that receives the bucket's notifications")],
    prefix: Annotated[list[str] | None, typer.Option(help="Only keys starting with this (repeatable)")] = None,
    suffix: Annotated[list[str] | None, typer.Option(
        help="Only keys ending with this, in any case, e.g. .pdf (repeatable)")] = None,
    wait_seconds: Annotated[int | None, typer.Option(
        help="Long poll: how long one receive waits for messages, 0-20 s (default: the longest)")] = None,
    once: Annotated[bool, typer.Option(help="Drain the queue (until a receive comes back empty), then exit")] = False,
) -> None:
    """Turn S3 ObjectCreated notifications on an SQS queue into docuforge.document.received events."""
    from pydantic import ValidationError

    from deployments.s3_bridge import BridgeOptions, run_bridge
    from tasks.errors import DocuforgeError

    given = {"queue_url": queue_url, "prefixes": prefix or [], "suffixes": suffix or [], "wait_seconds": wait_seconds}
    try:
        options = BridgeOptions.model_validate({name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}"
                                           for e in exc.errors())) from exc
    _log_to_stderr("deployments.s3_bridge")
    try:
        run_bridge(options, once=once)
    except DocuforgeError as exc:
        print_error(exc.category, exc.message)
        raise typer.Exit(1) from exc


@app.command("s3-notify")
def s3_notify(
    bucket: Annotated[str, typer.Option(help="The bucket whose new objects are announced")],
    queue_url: Annotated[str, typer.Option(help="The SQS queue the bridge reads")],
    prefix: Annotated[str, typer.Option(help="Only keys starting with this")] = "",
    suffix: Annotated[str, typer.Option(
        help="Only keys ending with this, e.g. .pdf (S3 matches case-sensitively)")] = "",
) -> None:
    """Point a bucket's ObjectCreated notifications at an SQS queue (the bucket's other notifications are kept)."""
    from deployments.s3_bridge import notify_queue

    _log_to_stderr("deployments.s3_bridge")
    notify_queue(bucket, queue_url, prefix=prefix, suffix=suffix)


if __name__ == "__main__":
    app()
