"""prefect.yaml and deployments/automations.yaml: every deployment loads its flow, every parameter it sets exists
and is described (the UI renders a form from them), and every event named is a declared Docuforge event."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema

from tasks.events import EventName
from tasks.models import ENGINE_WEIGHTS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "prefect.yaml").read_text())
AUTOMATIONS = yaml.safe_load((ROOT / "deployments/automations.yaml").read_text())["automations"]
DEPLOYMENTS = {d["name"]: d for d in CONFIG["deployments"]}
EVENTS = {str(name) for name in EventName}


def test_every_workflow_has_a_deployment_on_the_docuforge_pool():
    assert {"process-document", "batch", "scheduled-ingestion", "error-recovery", "workflow-orchestrator",
            "workflow-step"} <= set(DEPLOYMENTS)
    for deployment in DEPLOYMENTS.values():
        assert deployment["work_pool"]["name"] == "docuforge" and deployment["concurrency_limit"] >= 1


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_parameters_exist_and_are_described(name):
    deployment = DEPLOYMENTS[name]
    flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
    assert flow.name == name, "each deployment is named after its flow (automations address flow/deployment)"
    schema = parameter_schema(flow.fn).model_dump()
    properties = schema["properties"]
    for parameter, spec in properties.items():
        assert spec.get("description"), f"{name}: parameter {parameter} has no description"
    given = set(deployment.get("parameters", {}))
    for trigger in deployment.get("triggers", []):
        given |= set(trigger["parameters"])
        assert set(trigger["expect"]) <= EVENTS
        assert set(schema.get("required", [])) <= set(trigger["parameters"]) | set(deployment.get("parameters", {}))
    assert given <= set(properties)


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_run_forms_show_every_default_and_no_bookkeeping(name):
    """The UI fills a form from the schema: a field without a default shows empty ("No items in this list")."""
    flow = load_flow_from_entrypoint(str(ROOT / DEPLOYMENTS[name]["entrypoint"]))
    schema = parameter_schema(flow.fn).model_dump()
    assert "attempt" not in schema["properties"], "error recovery's bookkeeping travels as a run tag"
    for model, definition in schema["definitions"].items():
        for field, spec in definition.get("properties", {}).items():
            assert field in definition.get("required", []) or "default" in spec, f"{name}: {model}.{field}"
    if "ProcessOptions" in schema["definitions"]:
        options = schema["definitions"]["ProcessOptions"]["properties"]
        assert options["engines"]["default"] == ["tesseract", "paddle", "easyocr"]
        assert options["engine_weights"]["default"] == ENGINE_WEIGHTS
        assert options["enhance"]["default"]["deskew"] is True


@pytest.mark.parametrize("name", ["process-document", "batch", "scheduled-ingestion", "extract-document"])
def test_options_left_empty_are_the_ocr_settings_blocks(name):
    flow = load_flow_from_entrypoint(str(ROOT / DEPLOYMENTS[name]["entrypoint"]))
    options = parameter_schema(flow.fn).model_dump()["properties"]["options"]
    assert options["default"] is None and "docuforge-ocr block" in options["description"]


def test_every_trigger_and_automation_is_described():
    triggers = [trigger for deployment in DEPLOYMENTS.values() for trigger in deployment.get("triggers", [])]
    for item in triggers + AUTOMATIONS:
        assert len(item.get("description", "")) > 20, item["name"]


def test_automations_name_declared_events_and_existing_deployments():
    for automation in AUTOMATIONS:
        assert set(automation["trigger"]["expect"]) <= EVENTS
        for action in automation["actions"]:
            flow_name, deployment = action["deployment"].split("/")
            assert flow_name == deployment and deployment in DEPLOYMENTS
