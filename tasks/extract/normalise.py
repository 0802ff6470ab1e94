"""Normalised values from the ways documents write them: ISO dates, plain decimal amounts, currency codes."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

MONTHS: dict[str, int] = {}
for _number, _names in enumerate([
    "january jan januar janvier enero gennaio januari janeiro",
    "february feb februar février fevrier febrero febbraio februari fevereiro",
    "march mar märz maerz mrz mars marzo maart mrt março",
    "april apr avril abril aprile",
    "may mai mayo maggio mei maio",
    "june jun juni juin junio giugno junho",
    "july jul juli juillet julio luglio julho",
    "august aug août aout agosto augustus",
    "september sep sept septembre septiembre settembre setembro",
    "october oct oktober octobre octubre ottobre okt outubro",
    "november nov novembre noviembre novembro",
    "december dec dezember décembre decembre diciembre dicembre dez dezembro",
], start=1):
    MONTHS.update(dict.fromkeys(_names.split(), _number))
MONTH_NAMES = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
"""A regex alternation of every month name, longest first."""
DATE = re.compile(
    r"(?<!\d)(?:"
    r"(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!\d)"
    # a 4-digit year ends the date even when OCR glues the next number to it ('03/20/202304/04/2023')
    r"|(?P<na>\d{1,2})(?P<sep>[./-])(?P<nb>\d{1,2})(?P=sep)(?P<ny>(?:19|20)\d{2}|\d{2}(?!\d))"
    rf"|(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\.?\s*(?P<dm>{MONTH_NAMES})\.?,?\s*(?P<dy>\d{{4}}|\d{{2}}(?![\d:]))(?!\d)"
    rf"|(?P<mm>{MONTH_NAMES})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<my>\d{{4}})(?!\d)"
    r")",
    re.IGNORECASE,
)

CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "RS": "INR",
                    "RS.": "INR", "CHF": "CHF", "FR.": "CHF", "KR": "SEK", "ZŁ": "PLN"}
CURRENCY_CODES = {"USD", "EUR", "GBP", "JPY", "INR", "CHF", "CAD", "AUD", "NZD", "CNY", "SEK", "NOK", "DKK", "PLN",
                  "CZK", "HUF", "SGD", "HKD", "ZAR", "BRL", "MXN"}
_CURRENCY = "|".join(sorted(map(re.escape, {*CURRENCY_SYMBOLS, *CURRENCY_CODES} - {"KR", "FR."}), key=len,
                            reverse=True))
AMOUNT = re.compile(
    rf"(?<![\w.,])(?P<before>(?:{_CURRENCY})\s?)?(?P<sign>-)?"
    r"(?P<number>\d{1,3}(?:([.,'])\d{3})(?:\4\d{3})*(?:[.,]\d{1,2})?|\d+[.,]\d{1,2}|\d+)"
    rf"(?P<after>\s?(?:{_CURRENCY}))?(?![\w])",
    re.IGNORECASE,
)


DAYFIRST_CURRENCIES = {"RM", "MYR", "€", "EUR", "£", "GBP", "RS", "RS.", "INR", "₹", "SGD", "S$", "AUD", "A$"}
"""Currencies of countries that write numeric dates day first: a page in one of them reads '05/04/2018' as 5 April."""


DAYFIRST_WORDS = {"gst", "sst", "vat", "mwst", "ust", "tva", "btw", "iva", "bhd", "sdn", "gmbh", "pty", "pvt",
                  "jalan", "jln", "taman", "straße", "strasse", "rue"}
"""Words only pages from countries that write dates day first carry: a value-added tax's name (the US has sales
tax), legal forms (Malaysia's Sdn Bhd, Germany's GmbH, Australia's Pty, India's Pvt), street words."""


def dayfirst_of(words: list[str]) -> bool | None:
    """Whether a page's numeric 'a/b/y' dates are day first: told by a date on it whose day is over 12, else by its
    currency or words only day-first countries write; None leaves the default (month first with '/')."""
    for word in words:
        for match in DATE.finditer(word):
            if match["sep"] == "/":
                if int(match["na"]) > 12:
                    return True
                if int(match["nb"]) > 12:
                    return False
    bare = [word.strip(":") for word in words]
    marked = any(c in "€£₹" for word in bare for c in word) or any(
        word.upper() == code or _glued_code(word, code) for word in bare for code in DAYFIRST_CURRENCIES)
    return True if marked or any(word.strip(".,()").lower() in DAYFIRST_WORDS for word in bare) else None


def _glued_code(word: str, code: str) -> bool:
    """OCR glues a currency code to its label or amount: 'CASHRM280.00', 'SUMMEEUR'."""
    if not code.isalpha():
        return False
    return re.search(rf"{code}\d", word) is not None or (len(code) == 3 and word.isupper() and word.endswith(code))


def parse_date(text: str, dayfirst: bool | None = None) -> date | None:
    """The first date written in text. Numeric d/m/y is read month-first with '/' and day-first with '.' or '-'
    unless dayfirst says otherwise or one part is over 12."""
    match = DATE.search(text)
    return match_date(match, dayfirst) if match else None


def match_date(match: re.Match, dayfirst: bool | None = None) -> date | None:
    g = match.groupdict()
    try:
        if g["iy"]:
            return date(int(g["iy"]), int(g["im"]), int(g["id"]))
        if g["na"]:
            a, b, year = int(g["na"]), int(g["nb"]), _full_year(int(g["ny"]))
            first_is_day = (g["sep"] != "/") if dayfirst is None else dayfirst
            if a > 12 or (b <= 12 and first_is_day):
                return date(year, b, a)
            return date(year, a, b)
        if g["dd"]:
            return date(_full_year(int(g["dy"])), MONTHS[g["dm"].lower()], int(g["dd"]))
        return date(int(g["my"]), MONTHS[g["mm"].lower()], int(g["md"]))
    except ValueError:
        return None


def _full_year(year: int) -> int:
    return year + (2000 if year < 70 else 1900 if year < 100 else 0)


def parse_amount(text: str) -> Decimal | None:
    """'1,284.50', '1.284,50', '€ 4.11', 'USD 4.11', '-9,32' → a Decimal; None if there is no number."""
    match = AMOUNT.search(text.strip())
    return match_amount(match) if match else None


def match_amount(match: re.Match) -> Decimal | None:
    number = match["number"]
    last = max(number.rfind("."), number.rfind(","))
    if last >= 0 and len(number) - last - 1 in (1, 2):
        whole, fraction = number[:last], number[last + 1:]
    else:
        whole, fraction = number, ""
    digits = re.sub(r"[.,']", "", whole) + (f".{fraction}" if fraction else "")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return -value if match["sign"] else value


def format_decimal(value: Decimal) -> str:
    """A plain decimal: no exponent, no thousands separators."""
    return format(value, "f")


def currency_code(text: str) -> str | None:
    """'€', '$4.11', 'usd', 'Rs.' → the ISO 4217 code, if text is or carries a currency marker."""
    token = text.strip().upper()
    if token in CURRENCY_CODES:
        return token
    if token in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[token]
    for symbol in sorted((s for s in CURRENCY_SYMBOLS if not s.isalpha() and len(s) == 1), key=len, reverse=True):
        if symbol in token:
            return CURRENCY_SYMBOLS[symbol]
    match = AMOUNT.search(text)
    marker = match and (match["before"] or match["after"])
    return currency_code(marker) if marker and marker.strip().upper() != token else None


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in {"yes", "true", "y", "x", "☑", "☒", "✓", "✔", "ja", "oui", "sí", "si"}:
        return True
    if word in {"no", "false", "n", "☐", "nein", "non", "nee"}:
        return False
    return None


_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_NUMBER_WORD = re.compile(r"[(+-]?(?:[$€£¥₹])?\d[\d.,/'\-]*%?(?:[$€£¥₹])?[)]?[.,:;]?")
_GLUE = re.compile(
    r"(?<=^#)(?=\w)"  # '#invoice_number_1'
    r"|(?<=[a-zß-ÿ]{3})(?=\d)"  # 'Total319.00', 'Chair1.00', 'Hauptstraße36'
    r"|(?<=\d{4})(?=[A-Za-zÀ-ÿ]{3,}(?:\W|$))"  # '993548900IBAN', '8756390642Phone:', '31473Köln'
    r"|(?:(?<=[a-z\d%])|(?<=[A-Za-z]{3}))(?=[$€£¥₹])"  # '2015€', 'BTW€', '15.00%$42.00'
)


def ocr_digits(word: str) -> str:
    """A number OCR wrote with look-alike letters ('4O.11', '2O14', 'l0,50') with digits instead; any other word as
    it is. Only a word that is a number once fixed, with at least as many digits as letters replaced, changes."""
    fixed = word.translate(_LOOKALIKE_DIGITS)
    if fixed == word or not _NUMBER_WORD.fullmatch(fixed):
        return word
    changed = sum(a != b for a, b in zip(word, fixed))
    return fixed if sum(c.isdigit() for c in word) >= changed else word


def unglue(word: str) -> list[str]:
    """The words OCR ran together without a space: '#' before its value, a word before a number, a long number
    before a word, a word or number before a currency symbol ('Total319.00' → 'Total', '319.00')."""
    cuts = [m.start() for m in _GLUE.finditer(word) if 0 < m.start() < len(word)]
    return [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)])]
