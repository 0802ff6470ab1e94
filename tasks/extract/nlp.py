"""The nlp method: each field is an entity of one kind (organisation, address, date, amount…) found on the page,
chosen by the field's label hints, else by where that kind of entity usually stands."""
from __future__ import annotations

import re

from tasks.extract.entities import Entity, find_entities
from tasks.extract.rules import Candidate, FieldResult, Token, below, choose, field_result, labels, right_of
from tasks.extract.schema import EntityKind, FieldSpec

KIND_OF_TYPE: dict[str, EntityKind] = {"date": "date", "money": "amount", "number": "amount"}
LABELLED = {"right": 1.0, "below": 0.9}
"""How much a label next to the entity vouches for it (times the entity's own confidence)."""
UNLABELLED = 0.7
TOP_WEIGHT = 1.0
"""How much lower down the first page costs an unlabelled organisation or address (per page height)."""


def extract_with_nlp(specs: list[FieldSpec], tokens: list[Token]) -> list[FieldResult]:
    """One result per spec, in order: the entity the field names, with its confidence and citation, or why not."""
    entities = find_entities(tokens) if tokens else []
    return [_extract(spec, entities, tokens) for spec in specs]


def entity_kind(spec: FieldSpec) -> EntityKind | None:
    return spec.entity or KIND_OF_TYPE.get(spec.type)


def _extract(spec: FieldSpec, entities: list[Entity], tokens: list[Token]) -> FieldResult:
    kind = entity_kind(spec)
    if kind is None:
        return FieldResult(field_name=spec.name, type=spec.type, method="nlp", valid=False,
                           error=f"a {spec.type} field needs an entity kind for the nlp method (set 'entity')")
    found = [e for e in entities if e.kind == kind and (spec.pattern is None or re.fullmatch(spec.pattern, e.value))]
    best = choose(spec, labelled(spec, found, tokens)) or choose(spec, prominent(spec, found))
    result = field_result(spec, best, method="nlp")
    if best is None:
        result.error = f"{result.error}: no {kind} on the page"
    return result


def labelled(spec: FieldSpec, entities: list[Entity], tokens: list[Token]) -> list[Candidate]:
    """Entities that start right of one of the field's labels, or on the row below it. A value beside its label
    outranks one below a label (under a receipt's TOTAL is the larger CASH)."""
    found = []
    for hint_index, label in labels(spec.hints, tokens):
        for relation, context in (("right", right_of(label, tokens)), ("below", below(label, tokens))):
            ids = {id(t) for t in context}
            for entity in entities:
                if id(entity.tokens[0]) in ids:
                    found.append(_candidate(entity, entity.confidence * LABELLED[relation],
                                            (int(relation != "right"), hint_index, tokens.index(label[0]))))
    return found


def prominent(spec: FieldSpec, entities: list[Entity]) -> list[Candidate]:
    """Unlabelled entities, best placed first: organisations and addresses near the top of the first page, other
    kinds in reading order (the largest amount wins where the field selects the largest)."""
    def placement(entity: Entity) -> float:
        if entity.kind not in ("organisation", "address"):
            return 0.0
        return entity.confidence - TOP_WEIGHT * (entity.page_number - 1 + entity.bbox[1])

    ranked = sorted(entities, key=placement, reverse=True) if entities and entities[0].kind in (
        "organisation", "address") else entities
    return [_candidate(entity, entity.confidence * UNLABELLED, (2, position)) for position, entity in
            enumerate(ranked)]


def _candidate(entity: Entity, confidence: float, rank: tuple) -> Candidate:
    typed = entity.value_date or entity.value_number if entity.kind in ("date", "amount") else entity.value
    return Candidate(value=entity.value, typed=typed, tokens=entity.tokens, confidence=round(confidence, 3),
                     rank=rank)
