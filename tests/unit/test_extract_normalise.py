from datetime import date
from decimal import Decimal

import pytest

from tasks.extract.normalise import currency_code, ocr_digits, parse_amount, parse_bool, parse_date, unglue


@pytest.mark.parametrize("text, expected", [
    ("August 3 , 2014", date(2014, 8, 3)),
    ("Jan 1, 2022", date(2022, 1, 1)),
    ("03/20/2023", date(2023, 3, 20)),
    ("04/05/2023", date(2023, 4, 5)),
    ("20-10-2015", date(2015, 10, 20)),
    ("04.05.2023", date(2023, 5, 4)),
    ("01.05.14", date(2014, 5, 1)),
    ("7. Mai 2014", date(2014, 5, 7)),
    ("19 april 2014", date(2014, 4, 19)),
    ("29 maart 2014", date(2014, 3, 29)),
    ("3rd March 2021", date(2021, 3, 3)),
    ("Invoice date: 2023-03-20 (paid)", date(2023, 3, 20)),
    ("12 décembre 2020", date(2020, 12, 12)),
])
def test_dates_in_their_written_forms(text, expected):
    assert parse_date(text) == expected


def test_ambiguous_numeric_date_follows_dayfirst_and_impossible_dates_are_none():
    assert parse_date("04/05/2023", dayfirst=True) == date(2023, 5, 4)
    assert parse_date("31/02/2023") is None
    assert parse_date("Seite 1 von 2") is None


@pytest.mark.parametrize("text, expected", [
    ("1,284.50", "1284.50"), ("1.284,50", "1284.50"), ("€ 4.11", "4.11"), ("USD 4.11", "4.11"),
    ("$4.11", "4.11"), ("€ 4.904,94", "4904.94"), ("34,73 EUR", "34.73"), ("-9,32", "-9.32"),
    ("€ -9,32", "-9.32"), ("1,284", "1284"), ("1'234.50", "1234.50"), ("319.00", "319.00"), ("3,9", "3.9"),
])
def test_amounts_as_plain_decimals(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text, expected", [
    ("€", "EUR"), ("$", "USD"), ("usd", "USD"), ("Rs.", "INR"), ("₹", "INR"), ("£", "GBP"), ("$4.11", "USD"),
    ("€3.50", "EUR"), ("EUR 34,73", "EUR"), ("Total", None), ("4.11", None),
])
def test_currency_codes_from_symbols_and_codes(text, expected):
    assert currency_code(text) == expected


def test_booleans():
    assert parse_bool("Yes") is True and parse_bool("☐") is False and parse_bool("maybe") is None


def test_a_four_digit_year_ends_a_date_glued_to_what_follows_but_two_digits_do_not():
    assert parse_date("03/20/202304/04/2023CUSTREF123") == date(2023, 3, 20)
    assert parse_date("20-10-20153/64") == date(2015, 10, 20)
    assert parse_date("1.2.1234") is None and parse_date("1.2.123") is None
    assert parse_date("01.05.14-31.05.14") == date(2014, 5, 1)


@pytest.mark.parametrize("word, expected", [
    ("4O.11", "40.11"), ("2O14", "2014"), ("l0,50", "10,50"), ("$4.1l", "$4.11"), ("O3/2O/2O23", "03/20/2023"),
    ("IO", "IO"), ("Oil", "Oil"), ("OD304175", "OD304175"), ("O", "O"), ("10", "10"),
])
def test_look_alike_letters_in_numbers(word, expected):
    assert ocr_digits(word) == expected


@pytest.mark.parametrize("word, expected", [
    ("Total319.00", ["Total", "319.00"]), ("993548900IBAN", ["993548900", "IBAN"]),
    ("8756390642Phone:", ["8756390642", "Phone:"]), ("#invoice_number_1", ["#", "invoice_number_1"]),
    ("2015€", ["2015", "€"]), ("15.00%$42.00", ["15.00%", "$42.00"]),
    ("US$", ["US$"]), ("NL810433941B01", ["NL810433941B01"]), ("SDMPP373MPP15", ["SDMPP373MPP15"]),
    ("AAACW8725FSD001", ["AAACW8725FSD001"]), ("INV/2023/03/0008", ["INV/2023/03/0008"]),
    ("po_number_123", ["po_number_123"]), ("Win10", ["Win10"]),
    ("Hauptstraße36", ["Hauptstraße", "36"]), ("31473Köln", ["31473", "Köln"]),
])
def test_words_run_together_by_ocr(word, expected):
    assert unglue(word) == expected
