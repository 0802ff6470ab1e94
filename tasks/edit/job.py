"""An edit job's steps over the results dataset, each a thin Prefect task over a plain function: the pages as
read → the searchable PDF → its text checked → the file next to the results → `edits` rows →
docuforge.edit.completed."""
from __future__ import annotations

import os

import pyarrow.dataset as ds
from prefect import task
from pydantic import BaseModel

from tasks.edit.request import Edits
from tasks.edit.searchable import PageText, TextCheck, check_text, placed_words, searchable_pdf
from tasks.events import EventName, emit
from tasks.retry import TASK_TIMEOUT, TASK_RETRIES
from tasks.store import ResultsStore

OPERATION = "edit"
SEARCHABLE = "searchable"


class EditSummary(BaseModel):
    job_id: str
    source_uri: str
    status: str
    edits: list[dict]
    """Each edit's row, as in the `edits` table."""
    results_uri: str


def read_page_texts(store_uri: str, job_id: str) -> list[PageText]:
    """The job's pages (text, where it came from, how the page was turned) and each OCR'd page's words."""
    store = ResultsStore(store_uri)
    only_job = ds.field("job_id") == job_id
    rows = store.dataset("pages").to_table(columns=["page_number", "text_source", "status", "rotation", "text"],
                                           filter=only_job).to_pylist()
    words = placed_words(store.dataset("words").to_table(
        columns=["page_number", "block_id", "line_id", "word_id", "text", "bbox", "engine"],
        filter=only_job).to_pylist())
    return [PageText(**{**row, "rotation": row["rotation"] or 0, "text": row["text"] or ""},
                     words=words.get(row["page_number"], []))
            for row in sorted(rows, key=lambda row: row["page_number"])]


def make_searchable(source_path: str, mime_type: str, pages: list[PageText], work_dir: str) -> str:
    """The searchable PDF in the work area; its path."""
    path = os.path.join(work_dir, f"{SEARCHABLE}.pdf")
    searchable_pdf(source_path, mime_type, pages, path)
    return path


def store_edit_file(local_path: str, store_uri: str, job_id: str, kind: str) -> str:
    """The edited PDF next to the results, <root>/edited/<job_id>/<kind>.pdf (a re-run replaces the folder); its
    URI."""
    store = ResultsStore(store_uri)
    key = f"edited/{job_id}/{kind}.pdf"
    store.replace_files(f"edited/{job_id}/", {key: local_path})
    return store.uri_of(key)


def searchable_row(job_id: str, pages: list[PageText], check: TextCheck, output_uri: str) -> dict:
    """The `edits` row of a searchable PDF: which pages got a text layer, which were copied as they were."""
    changed = [page.page_number for page in pages if page.gets_text]
    kept = [page for page in pages if not page.gets_text]
    words = sum(len(page.words) for page in pages if page.gets_text)
    notes = [f"invisible text layer of {words} OCR'd words added to {_pages(changed)}"] if changed else []
    if kept:
        notes.append("copied unchanged: " + ", ".join(f"page {page.page_number} ({_why_kept(page)})" for page in kept))
    return {"job_id": job_id, "kind": SEARCHABLE, "num_pages": len(pages), "pages_changed": changed,
            "words_added": words, "changes": "; ".join(notes), "output_uri": output_uri, "cer": check.cer,
            "verified": check.verified}


def _why_kept(page: PageText) -> str:
    if page.status != "ok":
        return "not read"
    return "has a text layer" if page.text_source == "text_layer" else "no words read"


def _pages(numbers: list[int]) -> str:
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(map(str, numbers))


def write_edits(store_uri: str, job_id: str, day: str, rows: list[dict]) -> None:
    """The job's `edits` file, in its date partition (a re-run replaces it)."""
    ResultsStore(store_uri).write("edits", OPERATION, day, job_id, rows)


def edit_summary(job_id: str, source_uri: str, rows: list[dict], store_uri: str) -> EditSummary:
    return EditSummary(job_id=job_id, source_uri=source_uri, status="completed", edits=rows, results_uri=store_uri)


def emit_edit(summary: EditSummary, edits: Edits) -> None:
    emit(EventName.edit_completed, summary.job_id, summary.source_uri, {
        "job_id": summary.job_id, "status": summary.status, "results_uri": summary.results_uri,
        "edits": edits.model_dump(exclude_defaults=True),
        "outputs": [{k: row[k] for k in ("kind", "output_uri", "verified", "cer", "pages_changed")}
                    for row in summary.edits],
    })


read_page_texts_task = task(name="read-page-texts", **TASK_RETRIES)(read_page_texts)
make_searchable_task = task(name="make-searchable", **TASK_TIMEOUT)(make_searchable)
check_text_task = task(name="check-text", **TASK_TIMEOUT)(check_text)
store_edit_file_task = task(name="store-edit-file", **TASK_RETRIES)(store_edit_file)
write_edits_task = task(name="write-edits", **TASK_RETRIES)(write_edits)
