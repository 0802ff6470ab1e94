"""Workflows over several processed documents (seed §8): merge their text, compare them, combine their fields.

Outputs go next to the results: <root>/workflows/<workflow_id>/<name>; a re-run replaces the folder.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from itertools import combinations
from typing import Literal

import pyarrow.dataset as ds
from prefect import task
from pydantic import BaseModel, Field
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from tasks.batch import DEFAULT_BATCH_SIZE, overall_status
from tasks.models import JobStatus, JobSummary, Operation, ProcessOptions
from tasks.retry import TASK_RETRIES
from tasks.store import ResultsStore

WorkflowType = Literal["merge", "compare", "extract_and_combine", "none"]


class WorkflowConfig(BaseModel):
    type: WorkflowType = Field("none", description="merge: one Markdown file of every document; compare: "
                                                   "similarity and differing lines per pair; extract_and_combine: "
                                                   "the documents' extracted fields side by side; none: process only")
    operation: Operation = Field("parse", description="What process-document does with each document")
    options: ProcessOptions = Field(ProcessOptions(), description="How each document is read (fields left at the "
                                    "built-in values take the docuforge-ocr block's)")
    fields_schema: dict | str | None = Field(None, description="operation=extract: the schema inline, a schema file, "
                                                               "or a bundled schema's name (default: 'invoice')")
    max_concurrent: int = Field(DEFAULT_BATCH_SIZE, ge=1, description="Documents processed at once")
    max_diff_lines: int = Field(20, ge=0, description="compare: differing lines kept per pair and side")


class DocumentText(BaseModel):
    job_id: str
    source_uri: str
    markdown: str
    text: str


class PairComparison(BaseModel):
    a: str
    b: str
    """The two documents' sources."""
    similarity: float
    """Character-level similarity of the whole texts, 0–1 (order matters)."""
    token_similarity: float
    """Similarity of the sorted words, 0–1 (the same words in another order score 1)."""
    only_in_a: list[str]
    only_in_b: list[str]
    """Lines of one document the other lacks, in reading order (at most max_diff_lines each)."""


class FieldValue(BaseModel):
    source_uri: str
    value: str | None
    confidence: float | None
    page_number: int | None


class CombinedField(BaseModel):
    field_name: str
    agreed: str | None
    """The value, where every document that has the field gives the same one."""
    values: list[FieldValue]


class WorkflowResult(BaseModel):
    workflow_id: str
    type: WorkflowType
    status: JobStatus
    documents: list[JobSummary]
    outputs: dict[str, str] = Field(default_factory=dict)
    """Output name → URI."""
    comparisons: list[PairComparison] = Field(default_factory=list)
    fields: list[CombinedField] = Field(default_factory=list)
    note: str | None = None


def document_texts(store: ResultsStore, documents: list[JobSummary]) -> list[DocumentText]:
    """The pages read of each document that was read at all (failed pages and documents left out)."""
    read = [d for d in documents if d.status != "failed"]
    pages = store.dataset("pages").to_table(
        columns=["job_id", "page_number", "text", "markdown"],
        filter=ds.field("job_id").isin([d.job_id for d in read]) & (ds.field("status") == "ok"),
    ).to_pylist()
    texts = []
    for document in read:
        own = sorted((p for p in pages if p["job_id"] == document.job_id), key=lambda p: p["page_number"])
        texts.append(DocumentText(
            job_id=document.job_id, source_uri=document.source_uri,
            markdown="\n\n".join((p["markdown"] or p["text"] or "").strip() for p in own),
            text="\n".join(p["text"] or "" for p in own),
        ))
    return texts


def merged_markdown(texts: list[DocumentText]) -> str:
    """The documents' Markdown one after the other, each introduced by a comment naming its source."""
    return "\n\n---\n\n".join(f"<!-- {t.source_uri} (job {t.job_id}) -->\n\n{t.markdown}" for t in texts) + "\n"


def compare_texts(texts: list[DocumentText], max_diff_lines: int) -> list[PairComparison]:
    """Every pair of documents: how alike their texts are, and the lines that differ."""
    comparisons = []
    for a, b in combinations(texts, 2):
        lines_a, lines_b = _lines(a.text), _lines(b.text)
        only_a, only_b = [], []
        for op in Indel.opcodes(lines_a, lines_b):
            only_a += lines_a[op.src_start:op.src_end] if op.tag in ("delete", "replace") else []
            only_b += lines_b[op.dest_start:op.dest_end] if op.tag in ("insert", "replace") else []
        comparisons.append(PairComparison(
            a=a.source_uri, b=b.source_uri, similarity=round(fuzz.ratio(a.text, b.text) / 100, 4),
            token_similarity=round(fuzz.token_sort_ratio(a.text, b.text) / 100, 4),
            only_in_a=only_a[:max_diff_lines], only_in_b=only_b[:max_diff_lines],
        ))
    return comparisons


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_fields(store: ResultsStore, documents: list[JobSummary]) -> list[dict]:
    job_ids = [d.job_id for d in documents if d.job_id]
    return store.dataset("fields").to_table(
        columns=["job_id", "field_name", "value", "confidence", "page_number"],
        filter=ds.field("job_id").isin(job_ids),
    ).to_pylist()


def combine_fields(rows: list[dict], documents: list[JobSummary]) -> list[CombinedField]:
    """The documents' fields by name, each with every document's value and the value they agree on, if any."""
    sources = {d.job_id: d.source_uri for d in documents}
    order = {job_id: index for index, job_id in enumerate(sources)}
    by_name: dict[str, list[FieldValue]] = {}
    for row in sorted(rows, key=lambda r: order[r["job_id"]]):
        by_name.setdefault(row["field_name"], []).append(FieldValue(
            source_uri=sources[row["job_id"]], value=row["value"], confidence=row["confidence"],
            page_number=row["page_number"]))
    return [CombinedField(field_name=name, values=values,
                          agreed=values[0].value if len({v.value for v in values}) == 1 else None)
            for name, values in sorted(by_name.items())]


def merge(store: ResultsStore, result: WorkflowResult, config: WorkflowConfig) -> dict[str, str]:
    return {"merged.md": merged_markdown(document_texts(store, result.documents))}


def compare(store: ResultsStore, result: WorkflowResult, config: WorkflowConfig) -> dict[str, str]:
    texts = document_texts(store, result.documents)
    if len(texts) < 2:
        result.note = f"compare needs two documents that were read; {len(texts)} was"
    result.comparisons = compare_texts(texts, config.max_diff_lines)
    return {"comparison.json": json.dumps([c.model_dump() for c in result.comparisons], indent=2)}


def extract_and_combine(store: ResultsStore, result: WorkflowResult, config: WorkflowConfig) -> dict[str, str]:
    result.fields = combine_fields(read_fields(store, result.documents), result.documents)
    if not result.fields:
        result.note = "no fields: these documents have no rows in the fields table (run an extract operation)"
        return {}
    return {"fields.json": json.dumps([f.model_dump() for f in result.fields], indent=2)}


def no_combination(store: ResultsStore, result: WorkflowResult, config: WorkflowConfig) -> dict[str, str]:
    return {}


COMBINERS: dict[WorkflowType, Callable[[ResultsStore, WorkflowResult, WorkflowConfig], dict[str, str]]] = {
    "merge": merge, "compare": compare, "extract_and_combine": extract_and_combine, "none": no_combination,
}


def combine_documents(results_uri: str, workflow_id: str, config: WorkflowConfig,
                      documents: list[JobSummary]) -> WorkflowResult:
    """Merge, compare or combine the processed documents as the config says, and put the outputs in place."""
    store = ResultsStore(results_uri)
    result = WorkflowResult(workflow_id=workflow_id, type=config.type, documents=documents,
                            status=overall_status([d.status for d in documents]))
    files = COMBINERS[config.type](store, result, config)
    result.outputs = write_outputs(store, workflow_id, files)
    return result


def event_payload(result: WorkflowResult) -> dict:
    """docuforge.workflow.completed's payload: the outcome and scores, without texts or lines (shown in the UI)."""
    return {
        "workflow_id": result.workflow_id, "type": result.type, "status": result.status,
        "documents": len(result.documents), "failed": sum(d.status == "failed" for d in result.documents),
        "outputs": result.outputs, "fields": len(result.fields), "note": result.note,
        "comparisons": [c.model_dump(include={"a", "b", "similarity", "token_similarity"})
                        for c in result.comparisons],
    }


def write_outputs(store: ResultsStore, workflow_id: str, files: dict[str, str]) -> dict[str, str]:
    """Put each named text under workflows/<workflow_id>/ (replacing what an earlier run left); name → URI."""
    prefix = f"workflows/{workflow_id}/"
    with tempfile.TemporaryDirectory(prefix="docuforge-workflow-") as folder:
        local = {}
        for name, content in files.items():
            local[prefix + name] = os.path.join(folder, name)
            with open(local[prefix + name], "w", encoding="utf-8") as handle:
                handle.write(content)
        store.replace_files(prefix, local)
    return {name: store.uri_of(prefix + name) for name in files}


combine_documents_task = task(name="combine-documents", **TASK_RETRIES)(combine_documents)
