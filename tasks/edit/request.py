"""What edits a document asks for: a typed model (the Prefect UI shows it as a form) and the CLI's flags.

Only the edits that work are offered: a searchable PDF for now (redaction and form filling are to come)."""
from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks.errors import BadInput


class Edits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    searchable: bool = Field(
        False, description="A searchable PDF: the original pages (scans untouched; an image input becomes a PDF "
                           "page) with an invisible text layer of the OCR'd words at their places; pages that have "
                           "a text layer are copied unchanged")

    def kinds(self) -> list[str]:
        """The edits asked for, by kind (the `edits` table's `kind`)."""
        return [kind for kind in type(self).model_fields if getattr(self, kind)]

    def column(self) -> str:
        """The edits as JSON (only those set)."""
        return json.dumps(self.model_dump(exclude_defaults=True), sort_keys=True)

    def fingerprint(self) -> str:
        """A hash of the edits: other edits, another edit job."""
        return hashlib.sha256(self.column().encode()).hexdigest()[:16]


def as_edits(value: Edits | dict | str | None) -> Edits:
    """The edits from the model, its JSON form or a dict (deployment parameters arrive as JSON); BadInput when
    malformed or when no edit is chosen."""
    try:
        if isinstance(value, str):
            edits = Edits.model_validate_json(value)
        elif isinstance(value, dict):
            edits = Edits.model_validate(value)
        else:
            edits = value
    except ValidationError as exc:
        raise BadInput("edits: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                             for e in exc.errors())) from exc
    if edits is None or not edits.kinds():
        raise BadInput(f"operation=edit needs at least one edit (one of: {', '.join(Edits.model_fields)})")
    return edits
