"""Workflow steps (seed §8 step processor): a small declarative condition language and data transformations.

A condition is data, never code:
    {"field": "document.pages", "op": "gt", "value": 3}
    {"all": [<condition>, ...]}   {"any": [<condition>, ...]}
`field` is a dotted path into the context (list items by index: "pages.0.status"). A comparison on a field the
context lacks is false, except `{"op": "exists", "value": false}`.
"""
from __future__ import annotations

import operator
from typing import Any, Literal

from prefect import task
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tasks.errors import BadInput
from tasks.events import workflow_step_event
from tasks.retry import TASK_TIMEOUT

Op = Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains", "exists"]
ORDERINGS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
Record = dict[str, Any]
_MISSING = object()


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    op: Op
    value: Any = None


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: list[Condition]


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    any: list[Condition]


Condition = Comparison | AllOf | AnyOf
AllOf.model_rebuild()
AnyOf.model_rebuild()


def lookup(context: Any, path: str) -> Any:
    """The value at a dotted path, or _MISSING."""
    value = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def evaluate(condition: Condition, context: Record) -> bool:
    if isinstance(condition, AllOf):
        return all(evaluate(part, context) for part in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(part, context) for part in condition.any)
    actual = lookup(context, condition.field)
    if condition.op == "exists":
        return (actual is not _MISSING) == (condition.value is None or bool(condition.value))
    if actual is _MISSING:
        return False
    try:
        return _compare(condition.op, actual, condition.value)
    except TypeError as exc:
        raise BadInput(f"condition on {condition.field!r}: cannot apply {condition.op} to {actual!r} and "
                       f"{condition.value!r}") from exc


def _compare(op: Op, actual: Any, value: Any) -> bool:
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    if op in ORDERINGS:
        return bool(ORDERINGS[op](actual, value))
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise TypeError("in and not_in need a list value")
        return (actual in value) == (op == "in")
    if not isinstance(actual, str | list):
        raise TypeError("contains needs a string or list field")
    return value in actual


class Transformation(BaseModel):
    """Applied to each record in order: keep the records the filter holds for, select keys, rename keys."""

    model_config = ConfigDict(extra="forbid")
    filter: Condition | None = None
    select: list[str] | None = Field(None, description="Keys (dotted paths) kept; default: every key")
    rename: dict[str, str] = Field(default_factory=dict, description="Old key → new key")


def transform(data: Record | list[Record], transformation: Transformation) -> Record | list[Record] | None:
    """A record or a list of records, transformed; a single record the filter rejects becomes None."""
    records = data if isinstance(data, list) else [data]
    kept = [record for record in records if transformation.filter is None or evaluate(transformation.filter, record)]
    out = [_reshape(record, transformation) for record in kept]
    return out if isinstance(data, list) else (out[0] if out else None)


def _reshape(record: Record, transformation: Transformation) -> Record:
    if transformation.select is not None:
        record = {path: value for path in transformation.select if (value := lookup(record, path)) is not _MISSING}
    return {transformation.rename.get(key, key): value for key, value in record.items()}


class ConditionalStep(BaseModel):
    condition: Condition
    context: Record = Field(default_factory=dict)
    next_step: str
    """Emitted as docuforge.workflow.<next_step> when the condition holds."""
    next_step_data: Record = Field(default_factory=dict)

    @field_validator("next_step")
    @classmethod
    def _plain_identifier(cls, next_step: str) -> str:
        try:
            workflow_step_event(next_step)
        except BadInput as exc:
            raise ValueError(str(exc)) from exc
        return next_step


class TransformationStep(BaseModel):
    input_data: Record | list[Record]
    transformation_config: Transformation
    step_id: str | None = None


STEP_TYPES: dict[str, type[ConditionalStep] | type[TransformationStep]] = {
    "conditional_processing": ConditionalStep,
    "data_transformation": TransformationStep,
}


def parse_step(step_type: str, step_data: Record) -> ConditionalStep | TransformationStep:
    """The step's data checked against its type; an unknown type or malformed data is BadInput."""
    if step_type not in STEP_TYPES:
        raise BadInput(f"unknown workflow step type {step_type!r}; known: {', '.join(STEP_TYPES)}")
    try:
        return STEP_TYPES[step_type].model_validate(step_data)
    except ValidationError as exc:
        raise BadInput(f"{step_type} step: {exc}") from exc


def evaluate_step(step: ConditionalStep) -> Record:
    return {"proceed": evaluate(step.condition, step.context), "next_step": step.next_step}


evaluate_step_task = task(name="evaluate-condition", **TASK_TIMEOUT)(evaluate_step)
transform_task = task(name="transform-data", **TASK_TIMEOUT)(transform)
