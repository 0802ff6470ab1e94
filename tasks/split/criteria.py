"""What splits a document: the criteria, a typed model (the Prefect UI shows it as a form), and the CLI's `--by`.

Criteria combine: every criterion's split points count, blank pages are dropped, and a section longer than
max_pages is cut again. The `--by` forms: pages:1-3,4-9 | every:N | outline[:LEVEL] | blank | documents |
max-pages:N.
"""
from __future__ import annotations

from pydantic import Field

from tasks.errors import BadInput
from tasks.requests import Request


class SplitCriteria(Request):

    page_ranges: str | None = Field(
        None, description="Fixed sections by page ranges, e.g. '1-3,4-9': each range is a section (pages outside "
                          "every range are left out); ranges may not overlap")
    every_pages: int | None = Field(None, ge=1, description="A new section every N pages")
    outline_level: int | None = Field(
        None, ge=1, description="A new section at each bookmark of the PDF's outline down to this level "
                                "(1: top-level bookmarks only)")
    blank_pages: bool = Field(False, description="Blank or empty separator pages end a section and are dropped")
    documents: bool = Field(
        False, description="A new section where a new document of a bundle starts: the page numbering restarts "
                           "('Page 1 of 3', 'Seite 1 von 2', '1/4')")
    max_pages: int | None = Field(None, ge=1, description="Sections longer than this many pages are cut")

    def is_empty(self) -> bool:
        return not (self.page_ranges or self.every_pages or self.outline_level or self.blank_pages or self.documents
                    or self.max_pages)


BY_FORMS = "pages:1-3,4-9 | every:N | outline[:LEVEL] | blank | documents | max-pages:N"


def criteria_from_specs(specs: list[str]) -> SplitCriteria:
    """The `--by` specs, combined: ['outline:2', 'blank', 'max-pages:10'] → one SplitCriteria. Raises BadInput on
    an unknown or malformed spec, or on the same criterion given twice."""
    given: dict[str, object] = {}
    for spec in specs:
        name, _, value = spec.strip().partition(":")
        name = name.strip().lower()
        field, parsed = _parse_spec(name, value.strip(), spec)
        if field in given:
            raise BadInput(f"split criterion {name!r} given twice")
        given[field] = parsed
    return SplitCriteria.read(given, "split criteria")


def _parse_spec(name: str, value: str, spec: str) -> tuple[str, object]:
    if name == "pages" and value:
        return "page_ranges", value
    if name in ("every", "max-pages") and value.isdigit():
        return ("every_pages" if name == "every" else "max_pages"), int(value)
    if name == "outline" and (not value or value.isdigit()):
        return "outline_level", int(value or 1)
    if name in ("blank", "documents") and not value:
        return ("blank_pages" if name == "blank" else "documents"), True
    raise BadInput(f"bad split criterion {spec!r}; expected one of: {BY_FORMS}")


def as_criteria(value: SplitCriteria | dict | str | None) -> SplitCriteria:
    """The criteria from the model, its JSON form or a dict (deployment parameters arrive as JSON); BadInput when
    malformed or when none is given."""
    criteria = SplitCriteria.read(value, "split criteria")
    if criteria is None or criteria.is_empty():
        raise BadInput(f"operation=split needs split criteria (at least one of: {BY_FORMS})")
    return criteria
