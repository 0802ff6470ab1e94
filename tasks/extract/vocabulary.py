"""What a schema's field means, from what the schema says: the common fields of business documents (totals, dates,
numbers, parties, addresses, contacts, currency), each with its value type, how it is found and its labels in the
languages the normaliser knows. A property is matched by its name, else its title, else a field name written in
its description; else only the last word of its name tells the value's type ('delivery_date' is a date). The field
keeps every setting the schema gives it and takes the rest from its match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.extract.normalise import CURRENCY_CODES

TOTAL_HINTS = [
    "grand total", "total amount due", "amount due", "balance due", "total due", "total amount", "invoice total",
    "total for this invoice", "total incl", "total ttc", "total rm", "total", "totaal", "te betalen", "gesamtbetrag",
    "rechnungsbetrag", "endbetrag", "gesamt", "summe", "zu zahlen", "montant total", "net à payer", "importe total",
    "jumlah besar", "jumlah", "totale",
]
DATE_HINTS = [
    "invoice date", "receipt date", "transaction date", "date of purchase", "date of issue", "issue date", "date",
    "rechnungsdatum", "factuurdatum", "date de facture", "fecha de factura", "datum", "fecha", "data", "tarikh", "dated",
]
NUMBER_PATTERN = r"#?\s?([A-Za-z0-9][A-Za-z0-9_/.\-]*\d[A-Za-z0-9_/.\-]*)"
"""An identifier: letters, digits and separators with at least one digit ('INV/2023/03/0008', 'DF-2026-0042')."""


@dataclass(frozen=True)
class Concept:
    names: tuple[str, ...]
    """Field names that mean it, as words ('invoice number' for invoice_number, invoiceNumber, 'Invoice No.')."""
    settings: dict = field(default_factory=dict)
    """FieldSpec settings it brings: type, method, entity, select, hints, pattern, values; near: the concept whose
    field's value it is written next to."""


CONCEPTS: dict[str, Concept] = {
    "total": Concept(
        ("total", "amount", "total amount", "grand total", "amount due", "total due", "balance due", "invoice total",
         "total paid", "amount paid", "total price", "total incl tax", "gross amount", "gross total", "sum"),
        {"type": "money", "method": "regex", "select": "largest", "hints": TOTAL_HINTS}),
    "subtotal": Concept(
        ("subtotal", "sub total", "net amount", "net total", "amount untaxed", "total excl tax", "total before tax"),
        {"type": "money", "method": "regex", "hints": [
            "subtotal", "sub total", "sub-total", "net amount", "total excl", "amount before tax", "untaxed amount",
            "zwischensumme", "nettobetrag", "netto", "sous-total", "total ht", "subtotaal", "subtotal sin iva"]}),
    "tax": Concept(
        ("tax", "vat", "gst", "sst", "sales tax", "tax amount", "amount tax", "vat amount", "total tax"),
        {"type": "money", "method": "regex", "hints": [
            "total tax", "tax amount", "sales tax", "vat amount", "tax", "vat", "gst", "sst", "mwst", "ust", "btw",
            "tva", "iva"]}),
    "date": Concept(
        ("date", "invoice date", "receipt date", "issue date", "date of issue", "transaction date", "purchase date",
         "document date", "order date", "bill date", "date issued"),
        {"type": "date", "method": "regex", "hints": DATE_HINTS}),
    "due_date": Concept(
        ("due date", "date due", "payment due", "payment due date", "due by", "pay by"),
        {"type": "date", "method": "regex", "hints": [
            "due date", "payment due", "date due", "pay by", "due", "fälligkeitsdatum", "fällig", "vervaldatum",
            "date d'échéance", "échéance", "fecha de vencimiento", "vencimiento"]}),
    "invoice_number": Concept(
        ("invoice number", "invoice no", "invoice nr", "invoice num", "invoice id", "invoice", "invoice ref",
         "bill number", "bill no"),
        {"type": "string", "method": "regex", "pattern": NUMBER_PATTERN, "hints": [
            "invoice number", "invoice no", "invoice #", "invoice nr", "bill no", "bill number", "invoice",
            "rechnungsnummer", "rechnungsnr", "factuurnummer", "factuurnr", "numéro de facture", "facture",
            "número de factura", "#"]}),
    "receipt_number": Concept(
        ("receipt number", "receipt no", "receipt id", "transaction number", "transaction id", "document number"),
        {"type": "string", "method": "regex", "pattern": NUMBER_PATTERN, "hints": [
            "receipt no", "receipt number", "receipt #", "doc no", "document no", "transaction no", "trans no",
            "bill no", "cash bill no", "invoice no", "ref no", "no"]}),
    "order_number": Concept(
        ("order number", "order no", "order id", "purchase order", "po number", "po", "po no"),
        {"type": "string", "method": "regex", "pattern": NUMBER_PATTERN, "hints": [
            "purchase order", "order number", "order no", "po number", "po no", "po #", "order #", "order",
            "bestellnummer", "bestelling", "commande", "pedido"]}),
    "company": Concept(
        ("company", "vendor", "merchant", "seller", "issuer", "supplier", "store", "shop", "business", "company name",
         "vendor name", "merchant name", "seller name", "supplier name", "store name", "shop name", "business name",
         "issuer name", "from"),
        {"type": "string", "method": "nlp", "entity": "organisation", "hints": [
            "company", "vendor", "merchant", "seller", "sold by", "supplier", "firma", "händler", "verkoper", "vendeur",
            "commerçant", "vendedor", "empresa", "syarikat"]}),
    "customer": Concept(
        ("customer", "customer name", "client", "client name", "buyer", "bill to", "billed to", "sold to", "ship to",
         "recipient", "partner name"),
        {"type": "string", "method": "nlp", "entity": "organisation", "hints": [
            "bill to", "billed to", "sold to", "customer", "client", "buyer", "kunde", "klant", "destinataire"]}),
    "address": Concept(
        ("address", "vendor address", "company address", "merchant address", "store address", "shop address",
         "seller address", "supplier address", "business address", "issuer address"),
        {"type": "string", "method": "nlp", "entity": "address", "hints": [
            "address", "store address", "adresse", "anschrift", "adres", "dirección", "indirizzo", "alamat"]}),
    "phone": Concept(
        ("phone", "telephone", "tel", "phone number", "telephone number", "mobile", "fax"),
        {"type": "string", "method": "nlp", "entity": "phone", "hints": ["phone", "tel", "telephone", "telefon"]}),
    "email": Concept(
        ("email", "e mail", "email address", "mail"),
        {"type": "string", "method": "nlp", "entity": "email", "hints": ["email", "e-mail", "mail"]}),
    "iban": Concept(("iban", "bank account", "account number"),
                    {"type": "string", "method": "nlp", "entity": "identifier", "hints": ["iban"]}),
    "vat_id": Concept(
        ("vat id", "vat number", "vat no", "tax id", "tax number", "gst id", "gst no", "gst reg no", "vat reg no"),
        {"type": "string", "method": "nlp", "entity": "identifier", "hints": [
            "vat no", "vat number", "vat id", "tax id", "gst reg no", "gst id", "gst no", "ust-idnr", "btw-nummer",
            "n° tva", "nif", "cif"]}),
    "currency": Concept(
        ("currency", "currency code"),
        {"type": "enum", "method": "regex", "values": sorted(CURRENCY_CODES), "near": "total",
         "hints": ["currency", "währung", "valuta", "devise", "moneda"]}),
}
GENERIC_HEADS = {"number": ("string", NUMBER_PATTERN), "total": ("money", None), "amount": ("money", None),
                 "date": ("date", None)}
"""A name none of the concepts names is read by its last word, for the value's type and shape, not its labels
('delivery_date' is a date, not labelled 'invoice date')."""


GENERIC_TYPES = ("string", "number")


def words_of(name: str) -> str:
    """A field name as lower-case words: 'invoiceNumber', 'invoice_number', 'Invoice No.' → 'invoice number'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(re.findall(r"[^\W_]+", spaced.lower()))


def concept_of(name: str, title: str = "", description: str = "") -> str | None:
    """The concept a property means: by its name, its title, a concept's name in its description (the longest)."""
    for text in (name, title):
        phrase = words_of(text)
        for key, concept in CONCEPTS.items():
            if phrase and phrase in concept.names:
                return key
    said = f" {words_of(description)} "
    named = [(len(phrase), key) for key, concept in CONCEPTS.items() for phrase in concept.names
             if " " in phrase and f" {phrase} " in said]  # one word ('invoice', 'total') says too little there
    return max(named)[1] if named else None


def understood(fields: list) -> list:
    """A schema's top-level fields (dicts as FieldSpec validates them) with what they mean filled in where the
    schema is silent; a setting the schema gives is kept. Fields already validated are left as they are."""
    concepts = {index: concept_of(spec["name"], spec.get("title", ""), spec.get("description", ""))
                for index, spec in enumerate(fields)
                if isinstance(spec, dict) and spec.get("name") and spec.get("type") != "array"}
    field_of = {key: fields[index]["name"] for index, key in concepts.items() if key}
    return [_filled(spec, concepts[index], field_of) if index in concepts else spec
            for index, spec in enumerate(fields)]


def labelled_parts(fields: list) -> list:
    """The sub-fields of an array of objects (an invoice's lines), labelled by their own names where unlabelled."""
    return [_filled(spec, None, {}) if isinstance(spec, dict) and spec.get("name") else spec for spec in fields]


def _filled(spec: dict, key: str | None, field_of: dict[str, str]) -> dict:
    own_hints = [hint for hint in dict.fromkeys([words_of(spec["name"]), words_of(spec.get("title", ""))]) if hint]
    if key is None:
        head = words_of(spec["name"]).rpartition(" ")[2]
        kind, pattern = GENERIC_HEADS.get(head, (None, None))
        extra = {"type": kind} if kind and spec.get("type", "string") in GENERIC_TYPES else {}
        extra |= {"pattern": pattern} if pattern and "pattern" not in spec else {}
        return spec | extra | {"hints": spec.get("hints") or own_hints}
    settings = dict(CONCEPTS[key].settings)
    near = settings.pop("near", None)
    if near in field_of and "near_field" not in spec:
        settings["near_field"] = field_of[near]
    given = {name: value for name, value in spec.items() if value not in (None, "", [])}
    if given.get("type", "string") in GENERIC_TYPES:
        given.pop("type", None)  # 'number' or 'string' says less than 'money' or 'date'
    else:
        settings.pop("type")
    if "values" in given or given.get("type", settings.get("type")) != "enum":
        settings.pop("values", None)
    hints = given.get("hints") or list(dict.fromkeys(settings.pop("hints", []) + own_hints))
    settings.pop("hints", None)
    return settings | given | {"hints": hints}
