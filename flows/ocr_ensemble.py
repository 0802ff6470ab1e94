"""ocr_ensemble subflow: detect lines → every engine recognises them (pages × engines) → vote → confidences."""
from __future__ import annotations

from prefect import flow, task, unmapped
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from tasks.ensemble import DetectedPage, EngineReadings, detect_page, line_detector, recognise_page, vote_page
from tasks.events import EventName, emit
from tasks.limits import ocr_slot
from tasks.models import Job, PageSummary
from tasks.ocr import engine_class, preload
from tasks.page import PagePlan, failed_page
from tasks.retry import FLOW_TIMEOUT, TASK_TIMEOUT, TASK_RETRIES
from tasks.settings import get_settings


@task(name="detect-lines", **TASK_RETRIES)
def detect_page_task(job: Job, plan: PagePlan) -> DetectedPage:
    with ocr_slot():
        return detect_page(job, plan)


@task(name="recognise-lines", **TASK_TIMEOUT)
def recognise_page_task(job: Job, page: DetectedPage, engine: str) -> EngineReadings:
    with ocr_slot():
        return recognise_page(job, page, engine)


vote_page_task = task(name="vote-lines", **TASK_TIMEOUT)(vote_page)


def recognisers(job: Job) -> list[str]:
    """The engines that read the detector's lines again, heaviest vote weight first: none in fast mode, every one
    in ensemble mode, and in auto mode the heaviest that is installed (a cascade of two)."""
    if job.options.ocr_mode == "fast":
        return []
    detector = line_detector(job.options)
    others = sorted((engine for engine in job.options.engines if engine != detector),
                    key=lambda engine: -job.options.engine_weights.get(engine, 0.0))
    if job.options.ocr_mode == "auto":
        return [engine for engine in others if engine_class(engine).available() is None][:1] or others[:1]
    return others


# Threads, not processes: the models' inference (onnxruntime, torch, the Tesseract process) runs outside the GIL,
# each model loads once per process instead of once per worker, and no worker start is paid per document.
@flow(name="ocr-ensemble", **FLOW_TIMEOUT, task_runner=ThreadPoolTaskRunner(max_workers=get_settings().page_workers))
def ocr_ensemble(job: Job, plans: list[PagePlan]) -> list[PageSummary]:
    engines = recognisers(job)
    preload(engines)  # while Tesseract detects
    detected = detect_page_task.map(unmapped(job), plans)
    readings = {engine: recognise_page_task.map(unmapped(job), detected, unmapped(engine)) for engine in engines}
    per_page = [[readings[engine][i] for engine in engines] for i in range(len(plans))]
    voted = vote_page_task.map(unmapped(job), detected, per_page)
    pages = []
    for plan, detection, page_readings, future in zip(plans, detected, per_page, voted):
        state = future.wait() or future.state
        pages.append(future.result() if state.is_completed()
                     else failed_page(job, plan.page_number, _first_error([detection, *page_readings, future])))
    emit(EventName.ocr_completed, job.job_id, job.document.source_uri, {
        "job_id": job.job_id, "pages": len(pages), "engines": [line_detector(job.options), *engines],
        "mode": job.options.ocr_mode, "pages_failed": sum(page.status == "failed" for page in pages),
    })
    return pages


def _first_error(steps: list[PrefectFuture]) -> BaseException:
    """Why a page's steps stopped: the error of the first that failed (the steps after it never ran)."""
    for step in steps:
        state = step.wait() or step.state
        if state.is_failed() or state.is_crashed():
            return step.result(raise_on_failure=False)
    return steps[-1].result(raise_on_failure=False)
