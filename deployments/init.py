"""`docuforge init`: everything a Prefect server ($PREFECT_API_URL) needs before Docuforge runs on it. Safe to run
again: each step creates what is missing and updates what is there, never a second copy.

- the block types (Docuforge's own and prefect-aws's) and the default blocks, the notification block among them;
- the `docuforge` process work pool;
- the global concurrency limit `ocr`;
- the concurrency limits of Docuforge's deployments, named after them (Prefect names them deployment:<uuid>);
- the automations of deployments/automations.yaml (those whose deployment exists), repaired where they differ from
  it (saving a run-deployment action in the UI replaces a `{{ event.payload }}` parameter with a fixed value).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from prefect.blocks.core import Block
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate, WorkPoolCreate,
)
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import AutomationCore
from prefect.exceptions import ObjectNotFound
from prefect.workers.process import ProcessWorker
from prefect_aws import AwsCredentials, S3Bucket
from pydantic import BaseModel

from blocks.loading import load_block
from blocks.settings import (
    AWS_CREDENTIALS_BLOCK, BLOCK_TYPES, LLM_BLOCK, NOTIFY_BLOCK, OCR_BLOCK, RESULTS_BLOCK, RESULTS_BUCKET_BLOCK,
    LlmProviderSettings, OcrSettings, ResultsStorage,
)
from blocks.storage import aws_credentials_from_env, split_s3_uri
from tasks.limits import DEFAULT_OCR_SLOTS, OCR_LIMIT
from tasks.notify import webhook_block

WORK_POOL = "docuforge"
DEPLOYMENT_TAG = "docuforge"
"""The tag every deployment of prefect.yaml carries."""
AUTOMATIONS = Path(__file__).with_name("automations.yaml")


class Step(BaseModel):
    what: str
    action: str
    """registered, created, updated, kept, renamed, repaired (with what) or skipped (with why)."""


def init(results_uri: str, ocr_slots: int | None = None, s3_endpoint: str | None = None,
         env: Mapping[str, str] | None = None, notify_url: str | None = None) -> list[Step]:
    """Prepare the server. results_uri: a folder or s3://bucket/prefix; S3 credentials and region come from the
    standard AWS variables of `env` (default: this process's), the endpoint from s3_endpoint or AWS_ENDPOINT_URL.
    ocr_slots: the `ocr` limit (None: an existing limit is kept, a new one gets DEFAULT_OCR_SLOTS). notify_url: the
    webhook error recovery tells when it gives up (None: an existing notification block is kept)."""
    env = dict(os.environ if env is None else env)
    if s3_endpoint:
        env["AWS_ENDPOINT_URL"] = s3_endpoint
    steps = [register(cls) for cls in [*BLOCK_TYPES, AwsCredentials, S3Bucket]]
    steps += results_blocks(results_uri, env)
    steps += [keep_or_create(cls(), name) for cls, name in ((OcrSettings, OCR_BLOCK), (LlmProviderSettings, LLM_BLOCK))]
    steps.append(notification_block(notify_url))
    with get_client(sync_client=True) as client:
        steps.append(work_pool(client))
        steps.append(ocr_limit(client, ocr_slots))
        steps += deployment_limits(client)
        steps += [automation(client, spec) for spec in yaml.safe_load(AUTOMATIONS.read_text())["automations"]]
    return steps


def register(cls: type[Block]) -> Step:
    cls.register_type_and_schema()
    return Step(what=f"block type {cls.get_block_type_slug()}", action="registered")


def results_blocks(results_uri: str, env: Mapping[str, str]) -> list[Step]:
    """The results block: a folder, or an S3Bucket block (with an AwsCredentials block) for s3:// roots."""
    if not results_uri.startswith("s3://"):
        return [save(ResultsStorage(folder=results_uri), RESULTS_BLOCK, results_uri)]
    bucket_name, prefix = split_s3_uri(results_uri)
    credentials = aws_credentials_from_env(env)
    bucket = S3Bucket(bucket_name=bucket_name, bucket_folder=prefix.strip("/"), credentials=credentials)
    endpoint = credentials.aws_client_parameters.endpoint_url
    return [save(credentials, AWS_CREDENTIALS_BLOCK, f"endpoint {endpoint or 'AWS'}"),
            save(bucket, RESULTS_BUCKET_BLOCK, results_uri),
            save(ResultsStorage(bucket=bucket), RESULTS_BLOCK, results_uri)]


def save(block: Block, name: str, about: str) -> Step:
    existed = load_block(type(block), name) is not None
    block.save(name, overwrite=True)
    return Step(what=f"block {name} ({about})", action="updated" if existed else "created")


def keep_or_create(block: Block, name: str) -> Step:
    """Settings someone may have edited in the UI are kept."""
    if load_block(type(block), name) is not None:
        return Step(what=f"block {name}", action="kept")
    block.save(name)
    return Step(what=f"block {name}", action="created")


def notification_block(url: str | None) -> Step:
    if url:
        return save(webhook_block(url), NOTIFY_BLOCK, "webhook; its URL kept as a secret")
    if load_block(CustomWebhookNotificationBlock, NOTIFY_BLOCK) is not None:
        return Step(what=f"block {NOTIFY_BLOCK}", action="kept")
    return Step(what=f"block {NOTIFY_BLOCK}", action="skipped: no --notify-url, so nobody is told when recovery "
                                                        "gives up on a job")


def work_pool(client) -> Step:
    try:
        pool = client.read_work_pool(WORK_POOL)
        return Step(what=f"work pool {WORK_POOL} ({pool.type})", action="kept")
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name=WORK_POOL, type=ProcessWorker.type,
                                               base_job_template=ProcessWorker.get_default_base_job_template()))
        return Step(what=f"work pool {WORK_POOL} ({ProcessWorker.type})", action="created")


def ocr_limit(client, slots: int | None) -> Step:
    try:
        existing = client.read_global_concurrency_limit_by_name(OCR_LIMIT)
    except ObjectNotFound:
        slots = slots or DEFAULT_OCR_SLOTS
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=OCR_LIMIT, limit=slots))
        return Step(what=f"global concurrency limit {OCR_LIMIT} ({slots} slots)", action="created")
    slots = slots or existing.limit
    what = f"global concurrency limit {OCR_LIMIT} ({slots} slots)"
    if existing.limit == slots and existing.active:
        return Step(what=what, action="kept")
    client.update_global_concurrency_limit(OCR_LIMIT, GlobalConcurrencyLimitUpdate(limit=slots, active=True))
    return Step(what=what, action="updated")


def deployment_limits(client) -> list[Step]:
    """Each Docuforge deployment's concurrency limit named deployment-<its name>, so the UI's list says whose it is.
    The deployment refers to its limit by id, so the name is free; `prefect deploy` keeps it."""
    steps = []
    deployments = client.read_deployments(
        deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[DEPLOYMENT_TAG])))
    for deployment in deployments:
        limit = deployment.global_concurrency_limit
        if limit is None:
            continue
        name = f"deployment-{deployment.name}"
        what = f"concurrency limit {name} ({limit.limit} runs at once)"
        if limit.name == name:
            steps.append(Step(what=what, action="kept"))
            continue
        client.update_global_concurrency_limit(limit.name, GlobalConcurrencyLimitUpdate(name=name))
        steps.append(Step(what=what, action=f"renamed from {limit.name}"))
    return steps


def automation(client, spec: dict) -> Step:
    """Create the automation, or repair the one of that name where it differs from automations.yaml (removing any
    copies). Whether it is enabled is the server's to keep: pausing it in the UI survives init."""
    spec = dict(spec)
    what = f"automation {spec['name']}"
    actions = []
    for action in spec.pop("actions"):
        action = dict(action)
        name = action.pop("deployment")
        try:
            action["deployment_id"] = client.read_deployment_by_name(name).id
        except ObjectNotFound:
            return Step(what=what, action=f"skipped: deployment {name} does not exist yet (prefect deploy --all, "
                                                  "then init again)")
        actions.append(RunDeployment.model_validate(action))
    wanted = AutomationCore.model_validate(spec | {"actions": actions})
    existing = client.read_automations_by_name(wanted.name)
    if not existing:
        client.create_automation(wanted)
        return Step(what=what, action="created")
    first, *copies = existing
    for copy in copies:
        client.delete_automation(copy.id)
    wanted.enabled = first.enabled
    changed = differences(first, wanted)
    if not changed:
        return Step(what=what, action="kept")
    client.update_automation(first.id, wanted)
    return Step(what=what, action=f"repaired: {', '.join(changed)} differed from {AUTOMATIONS.name}")


def differences(existing: AutomationCore, wanted: AutomationCore) -> list[str]:
    """Where an automation differs from the wanted one: its fields by name, an action's parameters each by name
    (e.g. actions[0].parameters.request)."""
    have, want = _comparable(existing), _comparable(wanted)
    changed = [name for name in want if name != "actions" and have[name] != want[name]]
    if len(have["actions"]) != len(want["actions"]):
        return [*changed, "actions"]
    for index, (old, new) in enumerate(zip(have["actions"], want["actions"])):
        old_parameters, new_parameters = old.pop("parameters") or {}, new.pop("parameters") or {}
        changed += [f"actions[{index}].{field}" for field in new if old.get(field) != new[field]]
        changed += [f"actions[{index}].parameters.{name}" for name in sorted(old_parameters.keys() | new_parameters)
                    if old_parameters.get(name) != new_parameters.get(name)]
    return changed


def _comparable(automation: AutomationCore) -> dict:
    return automation.model_dump(mode="json", include=set(AutomationCore.model_fields),
                                 exclude={"trigger": {"id"}})
