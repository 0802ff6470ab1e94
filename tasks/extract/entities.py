"""Entities in a page's words: dates, amounts, organisations, addresses, emails, phones and identifiers, each
normalised and cited by the words it was read from.

Rules over the words plus well-kept offline libraries (phonenumbers, python-stdnum, dateparser); no language model.
OCR output is repaired before numbers are read: digits that OCR turned into letters ('1O.5O'), numbers split by a
stray space ('12 .50', '25/ 12/2018') and currency prefixes glued to the amount ('RM12.50').
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import phonenumbers
from pydantic import BaseModel
from stdnum import bic, iban, vatin

from tasks.extract.normalise import AMOUNT, DATE, MONTH_NAMES, dayfirst_of, format_decimal, match_amount, match_date
from tasks.extract.rules import FILLER, ROW_GAP, Token, _key, lines_of
from tasks.extract.schema import EntityKind
from tasks.models import BBox, union


class Entity(BaseModel):
    kind: EntityKind
    value: str
    """Normalised: ISO date, plain decimal, E.164 phone, lower-case email, compact identifier, trimmed text."""
    value_number: float | None = None
    value_date: date | None = None
    subtype: str | None = None
    """For identifiers: iban, vat, bic or reference; for organisations: legal_form or business."""
    tokens: list[Token]
    confidence: float

    @property
    def page_number(self) -> int:
        return self.tokens[0].page_number

    @property
    def bbox(self) -> BBox:
        return union(t.bbox for t in self.tokens if t.page_number == self.page_number)


LEGAL_FORMS = {
    "ltd", "limited", "inc", "incorporated", "llc", "llp", "lp", "plc", "corp", "corporation", "company", "co",
    "gmbh", "ag", "kg", "ohg", "ek", "ug", "gbr", "bv", "nv", "vof", "sa", "sas", "sarl", "sasu", "eurl", "sl", "slu",
    "spa", "srl", "snc", "ab", "as", "asa", "oy", "oyj", "aps", "kft", "zrt", "bhd", "s/b", "pte", "pty", "pvt", "oo",
}
"""Legal-form words as they end a company name (dots and commas dropped: 'B.V.' → 'bv', 'Sdn. Bhd.' ends 'bhd',
'S/B' is Sdn Bhd shortened, 'Sp. z o.o.' ends 'oo')."""
BUSINESS_WORDS = {
    "enterprise", "enterprises", "trading", "restaurant", "restoran", "store", "stores", "shop", "mart", "minimart",
    "supermarket", "hypermarket", "bakery", "cafe", "café", "hotel", "pharmacy", "hardware", "stationery",
    "bookstore", "boulangerie", "bäckerei", "apotheke", "markt", "supermarkt", "winkel", "kedai", "perniagaan",
    "market", "minimarket", "bistro", "pub", "books", "electrical", "motor", "gallery", "deco", "tailoring",
}
"""Words that name a business without a legal form ('SANYU STATIONERY SHOP')."""
CONNECTORS = {"of", "the", "and", "de", "du", "la", "le", "von", "van", "der", "den", "y", "e", "et", "und"}
MAX_NAME_WORDS = 8
"""A longer line heading a page is a sentence, not a name (nor is one in lower case)."""
HEADER_DEPTH = 0.25
"""How far down the first page (fraction of its height) an issuer's name heads the page."""
DOCUMENT_TITLES = {"receipt", "invoice", "tax invoice", "official receipt", "cash bill", "bill", "welcome", "copy",
                   "simplified tax invoice", "cash sales", "quotation", "rechnung", "facture", "factuur", "quittung"}
"""Lines (or words) that head a page without naming anyone."""
TITLE_KEYS = {title.replace(" ", "") for title in DOCUMENT_TITLES}
REGISTRATION_LABELS = {"reg", "registration", "regn", "no", "number", "id"}
"""Words after 'Company' that make it a label ('Company Reg No.'), not the end of a name."""
REGISTRATION = re.compile(r"\([A-Z]{0,3}\d{4,}[\dA-Z-]*\)|[A-Z]{0,3}\d{5,}-[A-Z]")
"""A company's registration number written beside its name: '(SA0264195-T)', '(001451637-M)'."""
STREET_WORDS = {
    "street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "drive", "dr", "boulevard", "blvd", "way",
    "place", "pl", "court", "ct", "highway", "hwy", "square", "sq", "parkway", "pkwy", "jalan", "jln", "lorong",
    "persiaran", "taman", "lebuh", "lebuhraya", "kampung", "bandar", "strasse", "straße", "str", "weg", "allee",
    "platz", "gasse", "damm", "rue", "chemin", "allée", "quai", "via", "viale", "piazza", "corso", "calle", "avenida",
    "plaza", "paseo", "carrer", "straat", "laan", "plein", "gracht", "kade", "singel", "floor", "level", "suite",
    "unit", "building", "bldg", "block", "blk", "lot",
}
STREET_SUFFIXES = ("straße", "strasse", "str", "weg", "platz", "allee", "gasse", "straat", "laan", "plein", "gracht")
"""Street words written as the end of a compound ('Hauptstraße', 'Kalverstraat')."""
POSTCODE = re.compile(
    r"(?<![\w.])(?<!\d,)(?:\d{5}(?:-\d{4})?(?=,? [A-Za-zÀ-ÿ])"  # 10115 Berlin, 'Tampoi,81200 Johor', '50490, KL'
    r"|[A-Z]{2},? \d{5}(?:-\d{4})?"  # IL 62704
    r"|\d{4} ?[A-Z]{2}(?= [A-Z])"  # 1012 AB Amsterdam
    r"|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"  # SW1A 1AA
    r")(?![\w])")
HOUSE_NUMBER = re.compile(r"(?<![\w.,])(?:no\.?\s?)?\d{1,5}[A-Za-z]?(?:-\d{1,4})?(?![\w.,]\d)", re.IGNORECASE)
PHONE_LABELS = {"tel", "phone", "telephone", "fax", "mobile", "hp", "telefon", "tél", "téléphone", "tfn"}
VAT_LABELS = {"vat", "ust", "ust-id", "ust-idnr", "ustid", "btw", "tva", "iva", "mwst", "gst", "tax", "vatin"}
REFERENCE_LABELS = {"no", "nr", "number", "#", "id", "ref", "reference", "receipt", "invoice", "order", "reg",
                    "registration", "tin", "bill", "doc", "transaction", "txn", "folio"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
NUMERIC_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5"})
MIN_PHONE_DIGITS = 8
DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "NL", "MY", "IN", "SG", "AU")
REGION_OF_CURRENCY = {"RM": "MY", "MYR": "MY", "£": "GB", "GBP": "GB", "$": "US", "USD": "US", "₹": "IN",
                      "RS": "IN", "RS.": "IN", "INR": "IN", "S$": "SG", "SGD": "SG", "A$": "AU", "AUD": "AU"}
YEAR_FIRST = re.compile(r"(?<![\d.])\d{4}[/.]\d{1,2}[/.]\d{1,2}(?![\d.])")
SHORT_YEAR = re.compile(rf"(?<![\w.])\d{{1,2}}[- ](?:{MONTH_NAMES})\.?[- ,]+'?\d{{2}}(?![\w.])", re.IGNORECASE)
"""Written dates normalise.DATE leaves to dateparser: year first with '/' or '.', and month names with 2-digit years."""
CONFIDENCE = {"date": 0.9, "amount": 0.85, "legal_form": 0.85, "business": 0.5, "header": 0.55,
              "business_header": 0.85, "email": 0.95,
              "phone_labelled": 0.9, "phone": 0.7, "iban": 0.95, "vat_labelled": 0.95, "vat": 0.75, "bic": 0.85,
              "reference": 0.6, "address_full": 0.9, "address": 0.6}


@dataclass
class LineText:
    """One line's words joined by spaces, possibly rewritten, with the token each character came from."""
    text: str
    owner: list[int]
    tokens: list[Token]

    @classmethod
    def of(cls, tokens: list[Token], repair: bool = False) -> LineText:
        text, owner = "", []
        for index, token in enumerate(tokens):
            word = _numeric_repair(token.text) if repair else token.text
            text += word + " "
            owner += [index] * (len(word) + 1)
        return cls(text[:-1], owner[:-1], tokens)

    def sub(self, pattern: str, replacement: str) -> LineText:
        """Rewritten by a regex; new characters belong to the token where their match starts."""
        text, owner, last = "", [], 0
        for match in re.finditer(pattern, self.text):
            new = match.expand(replacement)
            text += self.text[last:match.start()] + new
            owner += self.owner[last:match.start()] + [self.owner[min(match.start(), len(self.owner) - 1)]] * len(new)
            last = match.end()
        return LineText(text + self.text[last:], owner + self.owner[last:], self.tokens)

    def cited(self, start: int, end: int) -> list[Token]:
        indices = sorted({self.owner[i] for i in range(start, end) if not self.text[i].isspace()})
        return [self.tokens[i] for i in indices]


def find_entities(tokens: list[Token], regions: Sequence[str] | None = None) -> list[Entity]:
    """Every entity in the words, in reading order within each kind. Phone numbers without a country code are read
    for the given regions (ISO 3166 codes), else for the regions the page's identifiers and currencies suggest."""
    lines = _lines(tokens)
    identifiers = [e for line in lines for e in _identifiers(line)]
    emails = [e for line in lines for e in _emails(line)]
    numeric = [_repaired(line) for line in lines]
    dayfirst = dayfirst_of([token.text for token in tokens])
    dates, taken = [], []
    for line in numeric:
        found = list(_dates(line, dayfirst))
        dates += [e for e, _ in found]
        taken.append([span for _, span in found])
    phone_regions = list(regions or _regions(tokens, identifiers))
    phones = []
    for line, spans in zip(numeric, taken):
        found = list(_phones(line, phone_regions, spans))
        phones += [e for e, _ in found]
        spans += [span for _, span in found]
    amounts = [e for line, spans in zip(numeric, taken) for e in _amounts(line, spans)]
    organisations = [e for index in range(len(lines)) for e in _organisations(lines, index)]
    named = {id(t) for e in organisations if e.subtype == "legal_form" for t in e.tokens}
    organisations += [e for e in _header_name(lines) if not named & {id(t) for t in e.tokens}]
    addresses = _addresses(lines)
    cited = {id(t) for e in identifiers + phones for t in e.tokens}
    amounts = [a for a in amounts if not cited & {id(t) for t in a.tokens}]
    return dates + amounts + organisations + addresses + emails + phones + identifiers


SIDE_SLACK = 0.01
"""Words of two pieces of one printed line may overlap this much (fraction of the page width) where OCR split it."""


def _lines(tokens: list[Token]) -> list[list[Token]]:
    """Printed lines in reading order, words left to right: the text's lines, merged where they sit at the same
    height (OCR often splits a printed line at a column gap or after punctuation: '2018-' '01-' '01')."""
    rows: list[list[Token]] = []
    for line in sorted(lines_of(tokens), key=lambda line: (line[0].page_number, _middle(line))):
        top, bottom = min(t.bbox[1] for t in line), max(t.bbox[3] for t in line)
        if rows and rows[-1][0].page_number == line[0].page_number:
            row_top, row_bottom = min(t.bbox[1] for t in rows[-1]), max(t.bbox[3] for t in rows[-1])
            beside = all(t.bbox[2] <= u.bbox[0] + SIDE_SLACK or u.bbox[2] <= t.bbox[0] + SIDE_SLACK
                         for t in line for u in rows[-1])  # two lines one above the other are never one line
            if beside and min(bottom, row_bottom) - max(top, row_top) > 0.5 * min(bottom - top, row_bottom - row_top):
                rows[-1] += line
                continue
        rows.append(list(line))
    return [sorted(row, key=lambda t: t.bbox[0]) for row in rows]


def _middle(line: list[Token]) -> float:
    return sum(t.yc for t in line) / len(line)


def _numeric_repair(word: str) -> str:
    """'1O.5O' → '10.50': letters OCR reads for digits, in a word that is mostly digits."""
    digits, letters = sum(c.isdigit() for c in word), sum(c.isalpha() or c == "|" for c in word)
    if digits and digits >= letters and re.fullmatch(r"[\dOoDIl|S.,:/-]+", word):
        return word.translate(NUMERIC_LOOKALIKES)
    return word


def _repaired(tokens: list[Token]) -> LineText:
    return (LineText.of(tokens, repair=True)
            .sub(r"(?<=\d) (?=[.,]\d{2}(?!\d))", "")  # 12 .50
            .sub(r"(?<=\d[.,]) (?=\d{2}(?![\d.,]))", "")  # 12. 50
            .sub(r"(?<=\d) ?/ ?(?=\d)", "/")  # 25/ 12 /2018
            .sub(r"(?<=\d[.:-]) (?=\d)|(?<=\d) (?=[:-]\d{2}(?![\d.,]))", "")  # 2018- 01- 01, 09 :45
            .sub(r"(?<![\w])(RM|MYR|Rs\.?)(?=\d)", r"\1 "))  # RM12.50


def _dates(line: LineText, dayfirst: bool | None) -> Iterator[tuple[Entity, tuple[int, int]]]:
    for match in DATE.finditer(line.text):
        if (day := match_date(match, dayfirst)) is not None:
            yield _date_entity(line, match, day), match.span()
    for pattern, order in ((YEAR_FIRST, "YMD"), (SHORT_YEAR, "DMY")):
        for match in pattern.finditer(line.text):
            if (day := _dateparser(match.group(), order)) is not None:
                yield _date_entity(line, match, day), match.span()


def _dateparser(text: str, order: str) -> date | None:
    import dateparser  # slow to import; only these shapes need it

    parsed = dateparser.parse(text.replace("'", ""), languages=None,
                              settings={"DATE_ORDER": order, "STRICT_PARSING": True})
    return parsed.date() if parsed else None


def _date_entity(line: LineText, match: re.Match, day: date) -> Entity:
    return Entity(kind="date", value=day.isoformat(), value_date=day, tokens=line.cited(*match.span()),
                  confidence=CONFIDENCE["date"])


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _amounts(line: LineText, taken: list[tuple[int, int]]) -> Iterator[Entity]:
    """Sums of money: numbers with cents or a currency marker (a bare integer is a count, a year or a code; a
    percentage is a rate)."""
    for match in AMOUNT.finditer(line.text):
        if _overlaps(match.span(), taken) or not (match["before"] or match["after"] or re.search(
                r"[.,]\d{2}$", match["number"])) or line.text[match.end():match.end() + 1] in (":", "/", "%"):
            continue
        if (amount := match_amount(match)) is not None:
            yield Entity(kind="amount", value=format_decimal(amount), value_number=float(amount),
                         tokens=line.cited(*match.span()), confidence=CONFIDENCE["amount"])


def _regions(tokens: list[Token], identifiers: list[Entity]) -> list[str]:
    """Regions to read national phone numbers for: the identifiers' countries, the currencies' countries, then a
    default list."""
    found = [e.value[:2] for e in identifiers if e.subtype in ("iban", "vat")]
    for token in tokens:
        word = token.text.strip(":").upper()
        if word in REGION_OF_CURRENCY:
            found.append(REGION_OF_CURRENCY[word])
        found += [REGION_OF_CURRENCY[c] for c in token.text if c in "£₹$"]
    return [r for r in dict.fromkeys(found + list(DEFAULT_REGIONS)) if r.isalpha() and len(r) == 2]


def _phones(line: LineText, regions: list[str], taken: list[tuple[int, int]]
            ) -> Iterator[tuple[Entity, tuple[int, int]]]:
    labelled = any(_key(t.text) in PHONE_LABELS for t in line.tokens)
    kept: list[tuple[int, int]] = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(line.text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            if (sum(c.isdigit() for c in match.raw_string) < MIN_PHONE_DIGITS or _overlaps(span, taken + kept)
                    or re.search(r"\d[.,]\d{2}$", match.raw_string)):
                continue
            kept.append(span)
            value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            yield Entity(kind="phone", value=value, tokens=line.cited(*span),
                         confidence=CONFIDENCE["phone_labelled" if labelled else "phone"]), span


def _emails(tokens: list[Token]) -> Iterator[Entity]:
    line = LineText.of(tokens).sub(r" ?@ ?", "@")
    for match in EMAIL.finditer(line.text):
        yield Entity(kind="email", value=match.group().strip(".").lower(), tokens=line.cited(*match.span()),
                     confidence=CONFIDENCE["email"])


def _identifiers(tokens: list[Token]) -> Iterator[Entity]:
    """IBANs and VAT numbers (checksums verified by python-stdnum, written in one word or in groups), BICs after a
    BIC/SWIFT label, and other numbers after an identifier label ('Receipt No: 12345')."""
    keys = [_key(t.text) for t in tokens]
    vat_label = bool(VAT_LABELS & set(keys))
    start = 0
    while start < len(tokens):
        found = _grouped(tokens, start, iban.is_valid, "iban") or _grouped(tokens, start, _is_vat, "vat")
        if found:
            entity, start = found
            if entity.subtype == "vat":
                entity.confidence = CONFIDENCE["vat_labelled" if vat_label else "vat"]
            # an unlabelled 'DE 123…' in groups is too easily a chance checksum
            if entity.subtype == "iban" or vat_label or re.match(r"[A-Z]{2}\d", entity.tokens[0].text):
                yield entity
            continue
        word = tokens[start].text.strip(".,:;()")
        if {"bic", "swift"} & set(keys[:start]) and len(word) in (8, 11) and bic.is_valid(word):
            yield Entity(kind="identifier", subtype="bic", value=bic.compact(word), tokens=[tokens[start]],
                         confidence=CONFIDENCE["bic"])
        elif _is_reference(word, keys[max(0, start - 3):start]):
            yield Entity(kind="identifier", subtype="reference", value=word.lstrip("#"), tokens=[tokens[start]],
                         confidence=CONFIDENCE["reference"])
        start += 1


def _is_vat(number: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2,13}", number)) and vatin.is_valid(number)


def _grouped(tokens: list[Token], start: int, is_valid, subtype: str) -> tuple[Entity, int] | None:
    """The longest run of words from `start`, written together, that is a valid identifier: (entity, next index)."""
    if not re.match(r"[A-Z]{2}", tokens[start].text):
        return None
    best = None
    number = ""
    for end in range(start, min(start + 9, len(tokens))):
        if end > start and tokens[end].bbox[0] - tokens[end - 1].bbox[2] > ROW_GAP:
            break
        number += re.sub(r"[\s.\-]", "", tokens[end].text)
        if len(number) > 34 or not number.isalnum():
            break
        if is_valid(number):
            best = end
    if best is None:
        return None
    cited = tokens[start:best + 1]
    compact = "".join(re.sub(r"[\s.\-]", "", t.text) for t in cited)
    return Entity(kind="identifier", subtype=subtype, value=compact, tokens=cited,
                  confidence=CONFIDENCE[subtype]), best + 1


def _is_reference(word: str, before: list[str]) -> bool:
    """A word with digits written right after an identifier label ('Receipt No: 12345', 'Ref # A-1234')."""
    between = list(before)
    while between and between[0] not in REFERENCE_LABELS:
        between.pop(0)
    labelled = bool(between) and all(k in REFERENCE_LABELS or k in FILLER or not k for k in between)
    return (labelled and len(word) >= 4 and sum(c.isdigit() for c in word) >= 3
            and re.fullmatch(r"#?[A-Za-z0-9][A-Za-z0-9/_-]*", word) is not None and DATE.search(word) is None)


def _organisations(lines: list[list[Token]], index: int) -> Iterator[Entity]:
    """A company name: the words of a line up to a legal form ('ACME Trading Sdn. Bhd.'), or up to the end of a line
    with a business word ('SANYU STATIONERY SHOP'). A legal form alone on its line takes the line above."""
    line = lines[index]
    keys = [_legal_form_key(t.text) for t in line]
    for end in range(len(line) - 1, -1, -1):
        original = line[end].text
        if keys[end] in LEGAL_FORMS and original[:1].isupper() and (end > 0 or _name_above(lines, index)):
            if end + 1 < len(line) and (keys[end + 1] in LEGAL_FORMS or keys[end + 1] in REGISTRATION_LABELS):
                continue
            start = _name_start(line, end)
            words = line[start:end + 1]
            if start == 0 and end < 2 and (above := _name_above(lines, index)):
                words = above + words
            if len(words) > 1:
                yield _organisation(words, "legal_form")
            return
    if any(k in BUSINESS_WORDS for k in keys) and sum(c.isalpha() for c in "".join(keys)) > 0.7 * len("".join(keys)):
        words = line[_name_start(line, len(line) - 1):]
        yield _organisation(words, "business")


def _header_name(lines: list[list[Token]]) -> list[Entity]:
    """The first line at the top of the first page that reads as a name (capitalised words, letters, no label, not an
    address or a document title): a receipt or letterhead names its issuer there even without a legal form or
    business word. A proprietor's name above the shop's is mostly printed in lower case there, and left out."""
    for index, line in enumerate(lines):
        if line[0].page_number != 1 or line[0].bbox[1] > HEADER_DEPTH:
            break
        line = [t for t in line if not REGISTRATION.fullmatch(t.text)]
        if line and line[-1].text in ("&", "-") and index + 1 < len(lines):
            line = line + lines[index + 1]  # 'HOME MASTER HARDWARE &' / 'ELECTRICAL'
        if not line:
            continue
        text = " ".join(t.text for t in line)
        letters = sum(c.isalpha() for c in text)
        words = [t.text for t in line if t.text[:1].isalpha() and t.text.lower() not in CONNECTORS]
        capitalised = len(words) <= MAX_NAME_WORDS and all(word[0].isupper() for word in words)
        if capitalised and letters >= 3 and letters >= 0.7 * len(text.replace(" ", "")) and ":" not in text \
                and not (_address_score(line) or 0) and not DOCUMENT_TITLES & {text.lower().strip(" .*-"),
                                                                          *(t.text.lower() for t in line)}:
            business = any(_legal_form_key(t.text) in BUSINESS_WORDS for t in line)
            return [_organisation(line, "business_header" if business else "header")]
    return []


def _legal_form_key(word: str) -> str:
    """A word as LEGAL_FORMS holds it: 'B.V.' → 'bv', 'Ltd,' → 'ltd'."""
    return re.sub(r"[.,]", "", word).lower()


def _is_legal_form(word: str) -> bool:
    return _legal_form_key(word) in LEGAL_FORMS


def _organisation(words: list[Token], subtype: str) -> Entity:
    """The name without the registration number written in it ('TEO HENG STATIONERY (001451637-M) BOOKS')."""
    words = [t for t in words if not REGISTRATION.fullmatch(t.text)] or words
    value = " ".join(t.text for t in words).strip(" ,;:")
    return Entity(kind="organisation", subtype=subtype, value=value, tokens=words, confidence=CONFIDENCE[subtype])


def _name_start(line: list[Token], end: int) -> int:
    """Where the name ending at `end` begins: after a label ('Vendor:') or a column gap."""
    start = end
    while start > 0 and line[start].bbox[0] - line[start - 1].bbox[2] <= ROW_GAP \
            and not line[start - 1].text.endswith(":"):
        start -= 1
    return start


def _name_above(lines: list[list[Token]], index: int) -> list[Token] | None:
    """The line just above, if it reads like the first part of a name: close above, words without digits."""
    if index == 0:
        return None
    above, line = lines[index - 1], lines[index]
    height = line[0].bbox[3] - line[0].bbox[1]
    close = above[0].page_number == line[0].page_number and line[0].bbox[1] - above[0].bbox[3] < 1.5 * height
    return above if close and not re.search(r"\d", " ".join(t.text for t in above)) else None


def _address_score(line: list[Token]) -> int | None:
    """1 for a street word, 2 more with a house number, 2 for a postcode (2 or more: an address line); None for a
    line that is something else (a sum, a phone, an email, a date, a company)."""
    text = " ".join(t.text for t in line)
    keys = [_key(t.text).strip(",") for t in line]
    parts = re.split(r"[\s,]+", text.lower())  # '27,JALAN DEDAP 13,'
    postcode = POSTCODE.search(text) is not None  # 'Denver, CO 80233', '6520 AB Utrecht': not legal forms
    street = any(k in STREET_WORDS or (len(k) > 6 and k.endswith(STREET_SUFFIXES)) for k in keys + parts)
    numbered = street and bool(HOUSE_NUMBER.search(text))
    sum_like = re.search(r"\d[.,]\d{2}(?!\d)", text) and not numbered  # 'NO.53 55,57 & 59, JALAN SAGU 18' is no sum
    dated = any(match_date(match) for match in DATE.finditer(text))  # 'NO 43-45-47G' is no date
    if (EMAIL.search(text) or dated or PHONE_LABELS & set(keys) or sum_like
            or not postcode and any(_is_legal_form(t.text) and t.text[:1].isupper() for t in line[1:])):
        return None
    return street + 2 * numbered + 2 * postcode


def _addresses(lines: list[list[Token]]) -> list[Entity]:
    """Runs of address lines: a line with a street word or a postcode, with the lines next to it that have one too
    or that a comma joins to it ('TAMAN DAYA,' above, 'JOHOR.' below a line ending in a comma), and the place name
    under a postcode's line ('SELANGOR DARUL EHSAN')."""
    lines = [_after_company(line) for line in lines]
    scores = [_address_score(line) if line else None for line in lines]
    found, index = [], 0
    while index < len(lines):
        if (scores[index] or 0) < 2:
            index += 1
            continue
        start = end = index
        while start > 0 and _joined(lines, scores, start - 1, start):
            start -= 1
        while end + 1 < len(lines) and _joined(lines, scores, end, end + 1):
            end += 1
        words = [t for line in lines[start:end + 1] for t in line]
        full = sum(s or 0 for s in scores[start:end + 1]) >= 4
        found.append(Entity(kind="address", value=" ".join(" ".join(t.text for t in words).split()), tokens=words,
                            confidence=CONFIDENCE["address_full" if full else "address"]))
        index = end + 1
    return found


def _after_company(line: list[Token]) -> list[Token]:
    """The words after a company name that a comma ends ('Acme Ltd, 221B Baker Street, London'), else the line."""
    for index, token in enumerate(line[1:-1], start=1):
        if token.text.endswith(",") and _is_legal_form(token.text):
            return line[index + 1:]
    return line


def _joined(lines: list[list[Token]], scores: list[int | None], upper: int, lower: int) -> bool:
    """Whether two neighbouring lines are parts of one address."""
    if scores[upper] is None or scores[lower] is None or not _continues(lines[upper], lines[lower]):
        return False
    if scores[upper] and scores[lower]:
        return True
    plain = lower if scores[lower] == 0 else upper
    if _is_title(lines[plain]):
        return False
    after_postcode = plain == lower and POSTCODE.search(" ".join(t.text for t in lines[upper])) is not None
    return (lines[upper][-1].text.endswith(",") or after_postcode) and _plain_words(lines[plain])


def _is_title(line: list[Token]) -> bool:
    """A document's title, however OCR spaced it ('TAXINVOICE')."""
    return "".join(t.text for t in line).lower().strip(" .*-") in TITLE_KEYS


def _continues(upper: list[Token], lower: list[Token]) -> bool:
    """Whether `lower` is the next line of the same block: same page, less than a line's height below."""
    height = max(t.bbox[3] - t.bbox[1] for t in upper)
    gap = min(t.bbox[1] for t in lower) - max(t.bbox[3] for t in upper)
    return upper[0].page_number == lower[0].page_number and gap < 1.2 * height


def _plain_words(line: list[Token]) -> bool:
    """A short line of words ('TAMAN DAYA,', 'JOHOR.'): a place name more than anything else."""
    text = " ".join(t.text for t in line)
    return len(line) <= 5 and not re.search(r"\d", text) and text[:1].isupper() \
        and not any(_key(t.text) in BUSINESS_WORDS or _is_legal_form(t.text) for t in line)
