"""Run reports in the Prefect UI: Markdown and table artifacts for a document, a batch and a workflow.

Artifact keys are stable (document-<job id>, batch-<batch id>-…, workflow-<id>), so a re-run adds a version to the
same artifact rather than a new one.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from tasks.batch import BatchSummary
from tasks.models import JobSummary, PageResult, PageSummary
from tasks.workflow import WorkflowResult

log = logging.getLogger(__name__)
TEXT_SOURCES = {"text_layer": "text layer", "ocr": "OCR", "hybrid": "text layer and OCR of its pictures"}
"""Where a page's text came from, in words."""
PREVIEW_CHARS = 1500
"""The summary artifact shows the document's text up to this many characters."""


def artifact_key(*parts: str) -> str:
    """A valid artifact key (lowercase letters, digits and dashes) made of the parts."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.1f} s"


def text_sources_line(text_sources: dict[str, int]) -> str:
    """{'ocr': 2, 'text_layer': 1} → 'OCR: 2 pages, text layer: 1 page'."""
    return ", ".join(f"{TEXT_SOURCES[source]}: {count} page{'s' * (count != 1)}"
                     for source, count in sorted(text_sources.items())) or "-"


def page_line(page: PageSummary, done: int, total: int) -> str:
    """A page's log line: where its text came from, words, confidence, OCR engines, engine errors."""
    head = f"page {page.page_number} ({done} of {total} done)"
    if page.status == "failed":
        return f"{head}: failed ({page.error_category}): {page.error}"
    parts = [f"text from {TEXT_SOURCES[page.text_source]}", f"{page.n_words} words"]
    if page.confidence is not None:
        parts.append(f"confidence {page.confidence:.2f}")
    engines = [engine for engine in page.engines if engine != "text_layer"]
    if engines:
        parts.append(f"OCR engines {', '.join(engines)}")
    errors = "; ".join(f"{engine}: {error}" for engine, error in sorted(page.engine_errors.items()))
    return f"{head}: {', '.join(parts)}" + (f"; engine errors: {errors}" if errors else "")


def text_preview(page_paths: list[str], limit: int = PREVIEW_CHARS) -> str:
    """The start of the document's text (pages in order), at most `limit` characters."""
    text = ""
    for path in page_paths:
        if len(text) >= limit:
            break
        text += PageResult.model_validate_json(Path(path).read_text()).text.strip() + "\n\n"
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def job_summary_markdown(summary: JobSummary, preview: str = "", files: Sequence[str] = ()) -> str:
    confidence = f"{summary.mean_confidence:.3f}" if summary.mean_confidence is not None else "-"
    rows = [
        ("Source", f"`{summary.source_uri}`"), ("Job", f"`{summary.job_id}`"), ("Operation", summary.operation),
        ("Status", f"**{summary.status}**"),
        ("Pages", f"{summary.num_pages} ({summary.pages_ok} read, {summary.pages_failed} failed)"),
        ("Text from", text_sources_line(summary.text_sources)), ("Mean confidence", confidence),
        ("Duration", _seconds(summary.duration_ms)), ("Results", f"`{summary.results_uri}`"),
    ]
    lines = [f"# {_cell(PurePosixPath(summary.source_uri).name)}", "", "| Item | Value |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    if summary.error:
        lines += ["", f"**Error** ({summary.error_category}): {summary.error}"]
    if preview:
        lines += ["", "## Text preview", "", "~~~text", preview.replace("~~~", "~ ~ ~"), "~~~"]
    if files:
        lines += ["", "## Files", ""] + [f"- `{uri}`" for uri in files]
    return "\n".join(lines) + "\n"


def batch_documents_table(summary: BatchSummary) -> list[dict]:
    """One row per document of the batch."""
    return [{"source": d.source_uri, "job_id": d.job_id, "status": d.status, "pages": d.num_pages,
             "pages_failed": d.pages_failed, "error_category": d.error_category or "",
             "seconds": round(d.duration_ms / 1000, 1)} for d in summary.documents]


def batch_markdown(summary: BatchSummary) -> str:
    rate = f"{summary.documents_per_min} documents/min" if summary.documents_per_min is not None else "-"
    lines = [
        f"# Batch {summary.batch_id}", "",
        f"**{summary.status}**: {summary.n_documents} documents — {summary.completed} completed, "
        f"{summary.partial} partial, {summary.failed} failed", "",
        "| Item | Value |", "|---|---|",
        f"| Pages | {summary.pages} ({summary.pages_failed} failed) |",
        f"| Duration | {_seconds(summary.duration_ms)} |", f"| Throughput | {rate} |",
        f"| Batch size | {summary.batch_size} |", f"| Results | `{_cell(summary.results_uri)}` |",
    ]
    if summary.failures_by_category:
        lines += ["", "## Failures by category", "", "| category | documents |", "|---|---|"]
        lines += [f"| {category} | {count} |" for category, count in sorted(summary.failures_by_category.items())]
        lines += ["", "## Failed documents", "", "| source | category | error |", "|---|---|---|"]
        lines += [f"| `{_cell(d.source_uri)}` | {d.error_category} | {_cell(d.error or '')} |"
                  for d in summary.documents if d.status == "failed"]
    return "\n".join(lines) + "\n"


def workflow_markdown(result: WorkflowResult) -> str:
    lines = [f"# Workflow {result.workflow_id} ({result.type})", "", f"**{result.status}**", "",
             "| document | status | pages | error |", "|---|---|---|---|"]
    lines += [f"| `{_cell(d.source_uri)}` | {d.status} | {d.num_pages} | {_cell(d.error or '')} |"
              for d in result.documents]
    if result.outputs:
        lines += ["", "## Outputs", ""] + [f"- {name}: `{uri}`" for name, uri in result.outputs.items()]
    if result.comparisons:
        lines += ["", "## Comparison", "", "| a | b | similarity | word similarity | lines only in a | only in b |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{_cell(c.a)}` | `{_cell(c.b)}` | {c.similarity:.3f} | {c.token_similarity:.3f} | "
                  f"{len(c.only_in_a)} | {len(c.only_in_b)} |" for c in result.comparisons]
        for c in result.comparisons:
            if c.only_in_a or c.only_in_b:
                lines += ["", f"### `{_cell(c.a)}` vs `{_cell(c.b)}`", ""]
                lines += [f"- `-` {_cell(line)}" for line in c.only_in_a]
                lines += [f"- `+` {_cell(line)}" for line in c.only_in_b]
    if result.fields:
        lines += ["", "## Fields", "", "| field | agreed value | values |", "|---|---|---|"]
        lines += [f"| {_cell(f.field_name)} | {_cell(f.agreed or '-')} | "
                  f"{_cell('; '.join(f'{v.value}' for v in f.values))} |" for f in result.fields]
    if result.note:
        lines += ["", f"_{result.note}_"]
    return "\n".join(lines) + "\n"


def publish_job_summary(summary: JobSummary, preview: str, files: list[str]) -> None:
    """The run's summary artifact. The results are stored by now, so an API hiccup here only costs the artifact."""
    if FlowRunContext.get() is None:
        return
    try:
        create_markdown_artifact(markdown=job_summary_markdown(summary, preview, files),
                                 key=artifact_key("document", summary.job_id),
                                 description=f"Summary of {summary.source_uri}")
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("summary artifact for job %s was not created", summary.job_id, exc_info=True)


def publish_batch_report(summary: BatchSummary) -> None:
    create_table_artifact(table=batch_documents_table(summary),
                          key=artifact_key("batch", summary.batch_id, "documents"),
                          description=f"Documents of batch {summary.batch_id}")
    create_markdown_artifact(markdown=batch_markdown(summary), key=artifact_key("batch", summary.batch_id, "report"),
                             description=f"Report of batch {summary.batch_id}")


def publish_workflow_report(result: WorkflowResult) -> None:
    create_markdown_artifact(markdown=workflow_markdown(result), key=artifact_key("workflow", result.workflow_id),
                             description=f"Report of workflow {result.workflow_id}")
