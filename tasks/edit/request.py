"""What edits a document asks for: a typed model (the Prefect UI shows it as a form) and the CLI's flags.

Only the edits that work are offered: a searchable PDF for now (redaction and form filling are to come)."""
from __future__ import annotations

from pydantic import Field

from tasks.errors import BadInput
from tasks.requests import Request


class Edits(Request):

    searchable: bool = Field(
        False, description="A searchable PDF: the original pages (scans untouched; an image input becomes a PDF "
                           "page) with an invisible text layer of the OCR'd words at their places; pages that have "
                           "a text layer are copied unchanged")

    def kinds(self) -> list[str]:
        """The edits asked for, by kind (the `edits` table's `kind`)."""
        return [kind for kind in type(self).model_fields if getattr(self, kind)]


def as_edits(value: Edits | dict | str | None) -> Edits:
    """The edits from the model, its JSON form or a dict (deployment parameters arrive as JSON); BadInput when
    malformed or when no edit is chosen."""
    edits = Edits.read(value, "edits")
    if edits is None or not edits.kinds():
        raise BadInput(f"operation=edit needs at least one edit (one of: {', '.join(Edits.model_fields)})")
    return edits
