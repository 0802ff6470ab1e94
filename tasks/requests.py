"""What an operation is asked besides its document and options (a split's criteria, the edits): a typed model the
Prefect UI shows as a form, its JSON column, its fingerprint (part of the job id) and how it is read from a run's
parameters."""
from __future__ import annotations

import hashlib
import json
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from tasks.errors import BadInput


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def column(self) -> str:
        """The request as JSON (only what is set)."""
        return json.dumps(self.model_dump(exclude_defaults=True), sort_keys=True)

    def fingerprint(self) -> str:
        """A hash of the request: another request, another job."""
        return hashlib.sha256(self.column().encode()).hexdigest()[:16]

    @classmethod
    def read(cls, value: Self | dict | str | None, what: str) -> Self | None:
        """The request from the model, its JSON form or a dict (deployment parameters arrive as JSON); BadInput
        naming `what` when malformed."""
        try:
            if isinstance(value, str):
                return cls.model_validate_json(value)
            if isinstance(value, dict):
                return cls.model_validate(value)
            return value
        except ValidationError as exc:
            raise BadInput(f"{what}: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                                   for e in exc.errors())) from exc
