"""`docuforge init`: everything a Prefect server needs before Docuforge runs on it. Safe to run again: each step
creates what is missing and updates what is there, never a second copy.

- the block types (Docuforge's own and prefect-aws's) and the default blocks;
- the `docuforge` process work pool;
- the global concurrency limit `ocr`;
- the automations of deployments/automations.yaml (those whose deployment exists).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from prefect.automations import Automation
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate, WorkPoolCreate,
)
from prefect.events.actions import RunDeployment
from prefect.exceptions import ObjectNotFound
from prefect_aws import AwsCredentials, S3Bucket
from pydantic import BaseModel

from blocks.loading import load_block
from blocks.settings import BLOCK_TYPES, LLM_BLOCK, OCR_BLOCK, RESULTS_BLOCK, LlmProviderSettings, OcrSettings, \
    ResultsStorage
from tasks.limits import OCR_LIMIT

WORK_POOL = "docuforge"
AUTOMATIONS = Path(__file__).with_name("automations.yaml")


class Step(BaseModel):
    what: str
    action: str
    """created, updated, kept or skipped (with why)."""


def init(results_uri: str, ocr_slots: int) -> list[Step]:
    steps = [Step(what=f"block type {cls.get_block_type_slug()}", action=_register(cls))
             for cls in [*BLOCK_TYPES, AwsCredentials, S3Bucket]]
    steps += _default_blocks(results_uri)
    with get_client(sync_client=True) as client:
        steps.append(_work_pool(client))
        steps.append(_ocr_limit(client, ocr_slots))
        steps += [_automation(client, spec) for spec in yaml.safe_load(AUTOMATIONS.read_text())["automations"]]
    return steps


def _register(cls) -> str:
    cls.register_type_and_schema()
    return "registered"


def _default_blocks(results_uri: str) -> list[Step]:
    results = load_block(ResultsStorage, RESULTS_BLOCK)
    ResultsStorage(uri=results_uri).save(RESULTS_BLOCK, overwrite=True)
    steps = [Step(what=f"block {RESULTS_BLOCK} ({results_uri})", action="updated" if results else "created")]
    for cls, name in ((OcrSettings, OCR_BLOCK), (LlmProviderSettings, LLM_BLOCK)):
        if load_block(cls, name) is None:  # settings someone may have edited in the UI are kept
            cls().save(name)
            steps.append(Step(what=f"block {name}", action="created"))
        else:
            steps.append(Step(what=f"block {name}", action="kept"))
    return steps


def _work_pool(client) -> Step:
    try:
        client.read_work_pool(WORK_POOL)
        return Step(what=f"work pool {WORK_POOL}", action="kept")
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name=WORK_POOL, type="process"))
        return Step(what=f"work pool {WORK_POOL} (process)", action="created")


def _ocr_limit(client, slots: int) -> Step:
    what = f"global concurrency limit {OCR_LIMIT} ({slots} slots)"
    try:
        client.read_global_concurrency_limit_by_name(OCR_LIMIT)
    except ObjectNotFound:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=OCR_LIMIT, limit=slots))
        return Step(what=what, action="created")
    client.update_global_concurrency_limit(OCR_LIMIT, GlobalConcurrencyLimitUpdate(limit=slots))
    return Step(what=what, action="updated")


def _automation(client, spec: dict) -> Step:
    spec = dict(spec)
    actions = []
    for action in spec.pop("actions"):
        action = dict(action)
        if "deployment" in action:
            name = action.pop("deployment")
            try:
                action["deployment_id"] = client.read_deployment_by_name(name).id
            except ObjectNotFound:
                return Step(what=f"automation {spec['name']}", action=f"skipped: deployment {name} does not exist "
                                                                       "yet (prefect deploy --all, then init again)")
        actions.append(RunDeployment.model_validate(action))
    automation = Automation.model_validate(spec | {"actions": actions})
    try:
        existing = Automation.read(name=automation.name)
    except ValueError:
        automation.create()
        return Step(what=f"automation {automation.name}", action="created")
    existing_id = existing.id
    automation.id = existing_id
    automation.update()
    return Step(what=f"automation {automation.name}", action="updated")
