"""An extraction schema: which fields to find, of what type, by which method, with which label hints."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tasks.errors import BadInput
from tasks.extract.json_schema import is_json_schema, schema_from_json_schema
from tasks.extract.vocabulary import labelled_parts, understood

FieldType = Literal["string", "number", "money", "date", "enum", "boolean", "array"]
Method = Literal["regex", "nlp", "ai"]
EntityKind = Literal["date", "amount", "organisation", "address", "email", "phone", "identifier"]
BUNDLED = Path(__file__).resolve().parent / "schemas"


def named(fields):
    """Fields may be given as {name: spec}."""
    if isinstance(fields, dict):
        return [{**spec, "name": name} for name, spec in fields.items()]
    return fields


class FieldSpec(BaseModel):
    name: str = ""
    type: FieldType = "string"
    method: Method = "regex"
    pattern: str | None = Field(None, description="Regex the value must match (group 1, if any, is the value)")
    hints: list[str] = Field(default_factory=list, description="Label words, most telling first, e.g. 'Invoice No'")
    description: str = ""
    required: bool = False
    values: list[str] = Field(default_factory=list, description="The allowed values of an enum")
    select: Literal["first", "largest"] = Field(
        "first", description="Which labelled candidate wins: the first in hint order and reading order, or the largest "
                             "number (e.g. a total among subtotals)")
    near_field: str | None = Field(None, description="Prefer a value written next to this field's value (e.g. the "
                                                     "currency of the amount)")
    entity: EntityKind | None = Field(None, description="For nlp fields: the kind of entity the value is (default: "
                                                         "from the type: date → date, money/number → amount)")
    fields: list[FieldSpec] = Field(default_factory=list, description="Sub-fields of an array of objects")

    @field_validator("fields", mode="before")
    @classmethod
    def _named(cls, fields):
        return labelled_parts(named(fields))

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from exc
        return pattern

    @model_validator(mode="after")
    def _enum_has_values(self) -> FieldSpec:
        if self.type == "enum" and not self.values:
            raise ValueError(f"enum field {self.name!r} needs values")
        return self


class ExtractionSchema(BaseModel):
    version: str
    name: str = ""
    fields: list[FieldSpec] = Field(default_factory=list)
    auto: bool = Field(False, description="Also every key → value pair of the forms (label: value, label above "
                                          "value, checkboxes), named by its label")

    @field_validator("fields", mode="before")
    @classmethod
    def _named(cls, fields):
        return understood(named(fields))

    @model_validator(mode="after")
    def _unique_names(self) -> ExtractionSchema:
        names = [spec.name for spec in self.fields]
        if "" in names or len(set(names)) != len(names):
            raise ValueError(f"field names must be given and unique: {names}")
        if not names and not self.auto:
            raise ValueError("no fields (give fields, or auto: true for every key → value pair)")
        return self

    def fingerprint(self) -> str:
        """A hash of the whole schema as understood: another schema, another extraction job."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def parse_schema(document: dict, origin: str = "the schema") -> ExtractionSchema:
    """An extraction schema from Docuforge's own format or from a JSON Schema document."""
    if not isinstance(document, dict):
        raise BadInput(f"{origin} is not a JSON object")
    try:
        return ExtractionSchema.model_validate(
            schema_from_json_schema(document) if is_json_schema(document) else document)
    except ValueError as exc:
        raise BadInput(f"{origin} is not valid: {exc}") from exc


def load_schema(path: str | Path) -> ExtractionSchema:
    """A schema from a JSON file; a bare name (e.g. 'invoice') is a bundled schema."""
    file = Path(path)
    if not file.exists() and not file.suffix:
        file = BUNDLED / f"{path}.json"
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInput(f"schema file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(f"schema {path} is not valid JSON: {exc}") from exc
    return parse_schema(document, f"schema {path}")
