from datetime import date

import pytest

from tasks.extract.entities import find_entities
from tests.unit.word_pages import page


def entities(*rows: str, kind: str | None = None, **options):
    found = find_entities(page(*rows), **options)
    return [e for e in found if kind is None or e.kind == kind]


def values(*rows: str, kind: str, **options) -> list[str]:
    return [e.value for e in entities(*rows, kind=kind, **options)]


@pytest.mark.parametrize("text, expected", [
    ("Date: 25/12/2018 10:30", date(2018, 12, 25)),
    ("Datum: 7. Mai 2014", date(2014, 5, 7)),
    ("le 12 décembre 2020", date(2020, 12, 12)),
    ("Fecha 3 de marzo 2021", None),
    ("Jan 5, 2022", date(2022, 1, 5)),
    ("2018/12/05 14:00", date(2018, 12, 5)),
    ("25-DEC-18", date(2018, 12, 25)),
    ("Datum 04.05.2023", date(2023, 5, 4)),
    ("25/ 12 /2018", date(2018, 12, 25)),
])
def test_dates_in_many_languages_and_shapes(text, expected):
    found = entities(text, kind="date")
    if expected is None:
        assert found == []
        return
    [entity] = found
    assert entity.value == expected.isoformat() and entity.value_date == expected and entity.page_number == 1


def test_ambiguous_numeric_date_is_read_as_the_page_writes_dates():
    assert values("05/04/2018", kind="date") == ["2018-05-04"]  # month first by default with '/'
    assert values("05/04/2018", "TOTAL RM 4.00", kind="date") == ["2018-04-05"]  # a day-first country's currency
    assert values("05/04/2018", "Due 13/04/2018", kind="date") == ["2018-04-05", "2018-04-13"]


def test_amounts_read_through_ocr_damage_and_cited_by_their_words():
    rows = ("BREAD   2 x 1O.5O      21 .00", "TOTAL   RM47.50", "Summe   EUR 1.234,56", "Qty 3   Year 2018")
    found = entities(*rows, kind="amount")
    assert [e.value for e in found] == ["10.50", "21.00", "47.50", "1234.56"]
    assert [e.value_number for e in found] == [10.5, 21.0, 47.5, 1234.56]
    split = found[1]
    assert [t.text for t in split.tokens] == ["21", ".00"]
    assert split.bbox == (split.tokens[0].bbox[0], split.tokens[0].bbox[1], split.tokens[1].bbox[2],
                          split.tokens[1].bbox[3])


def test_numbers_inside_dates_and_phones_are_not_amounts():
    assert entities("Tel: 03-7890 1234   on 25.12.2018", kind="amount") == []


def test_phones_in_e164_with_the_region_from_the_page_or_given():
    assert values("Tel: +44 20 7946 0958", kind="phone") == ["+442079460958"]
    assert values("TEL: 03-7890 1234", "TOTAL RM 9.00", kind="phone") == ["+60378901234"]
    assert values("Tel: 030 901820", kind="phone", regions=["DE"]) == ["+4930901820"]
    [labelled] = entities("Phone: (415) 555-2671", kind="phone")
    assert labelled.value == "+14155552671" and labelled.confidence > 0.8


def test_emails_lower_case_even_when_ocr_splits_at_the_at_sign():
    assert values("Mail: Info @Shop.COM.", kind="email") == ["info@shop.com"]


def test_iban_and_vat_are_checked_and_a_wrong_checksum_is_rejected():
    found = entities("IBAN DE89 3704 0044 0532 0130 00   BIC DEUTDEFF", "USt-IdNr: DE 136 695 976",
                     kind="identifier")
    assert [(e.subtype, e.value) for e in found] == [("iban", "DE89370400440532013000"), ("bic", "DEUTDEFF"),
                                                     ("vat", "DE136695976")]
    assert [t.text for t in found[0].tokens] == ["DE89", "3704", "0044", "0532", "0130", "00"]
    wrong = entities("IBAN DE89 3704 0044 0532 0130 01", "VAT: DE136695975", "BIC DEUTXXFF", kind="identifier")
    assert [e.subtype for e in wrong] == []


def test_labelled_reference_numbers():
    assert values("Receipt No: CS00012345", "Order # 12-Z", "Note: 12345", kind="identifier") == ["CS00012345"]


def test_organisations_by_legal_form_or_business_word():
    found = entities("Vendor: ACME Widgets Ltd.", "BOOK TA .K (TAMAN DAYA) SDN BHD (123456-X)", "",
                     "Müller Handel GmbH & Co. KG", "SANYU STATIONERY SHOP", "Ship as soon as possible",
                     kind="organisation")
    assert [(e.value, e.subtype) for e in found] == [
        ("ACME Widgets Ltd.", "legal_form"), ("BOOK TA .K (TAMAN DAYA) SDN BHD", "legal_form"),
        ("Müller Handel GmbH & Co. KG", "legal_form"), ("SANYU STATIONERY SHOP", "business")]
    assert found[0].confidence > found[-1].confidence


def test_legal_form_alone_on_its_line_takes_the_name_above():
    [found] = entities("UNIHAKKA INTERNATIONAL", "SDN BHD", kind="organisation")
    assert found.value == "UNIHAKKA INTERNATIONAL SDN BHD" and len(found.tokens) == 4


@pytest.mark.parametrize("rows, expected", [
    (("SANYU SHOP SDN BHD", "NO. 12, JALAN MERDEKA 3,", "TAMAN DAYA,", "81100 JOHOR BAHRU,", "JOHOR.",
      "TEL: 07-355 1234"), "NO. 12, JALAN MERDEKA 3, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR."),
    (("Bäckerei Schmidt GmbH", "Hauptstraße 12", "10115 Berlin", "Tel. 030 901820"), "Hauptstraße 12 10115 Berlin"),
    (("Acme Widgets Ltd, 221B Baker Street, London NW1 6XE",), "221B Baker Street, London NW1 6XE"),
    (("Best Foods Inc.", "2536 Maple St", "Austin, TX 78733", "Date: 01/02/2020"), "2536 Maple St Austin, TX 78733"),
    (("Van Dijk B.V.", "Kalverstraat 92", "1012 PH Amsterdam"), "Kalverstraat 92 1012 PH Amsterdam"),
    (("UNIHAKKA INTERNATIONAL SDN BHD", "12, Jalan Tampoi 7/4,Kawasan Perindustrian", "Tampoi,81200 Johor Bahru, Johor",
      "TAXINVOICE"), "12, Jalan Tampoi 7/4,Kawasan Perindustrian Tampoi,81200 Johor Bahru, Johor"),
    (("BENS INDEPENDENT GROCER SDN. BHD", "Lot 6, Jalan Batai,", "Plaza Batai, Damansara Heights",
      "50490, Kuala Lumpur", "T: 03-2093 7358"), "Lot 6, Jalan Batai, Plaza Batai, Damansara Heights 50490, Kuala Lumpur"),
])
def test_addresses_over_consecutive_lines(rows, expected):
    [address] = entities(*rows, kind="address")
    assert address.value == expected and address.confidence >= 0.9
    assert address.tokens[0].text == expected.split()[0] and address.tokens[-1].text == expected.split()[-1]


def test_lines_that_are_not_addresses():
    assert entities("TOTAL 12 ITEMS   RM 40.00", "Thank you, please come again", "Street food festival tickets",
                    kind="address") == []


def test_a_currency_code_glued_to_its_label_still_tells_day_first_dates():
    dates = [e.value for e in find_entities(page("DATE: 01/11/2023", "CASHRM280.00")) if e.kind == "date"]
    assert dates == ["2023-11-01"]
    assert [e.value for e in find_entities(page("01/11/2023", "SUMMEEUR 4,50")) if e.kind == "date"] == ["2023-11-01"]
    assert [e.value for e in find_entities(page("Date: 01/11/2023", "Total   274.69")) if e.kind == "date"] == [
        "2023-01-11"], "without a day-first sign, '/' dates are month first"


def test_a_postcode_line_is_an_address_even_with_a_state_or_letters_like_a_legal_form():
    for rows, expected in [(("Royal Supplies Corp.", "1072 Main Ave", "Denver, CO 80233"),
                            "1072 Main Ave Denver, CO 80233"),
                           (("Bakkerij Jansen B.V.", "Prinsenstraat 189", "6520 AB Utrecht"),
                            "Prinsenstraat 189 6520 AB Utrecht")]:
        addresses = [e.value for e in find_entities(page(*rows)) if e.kind == "address"]
        assert addresses == [expected]


def test_an_unlabelled_issuer_heading_the_page_is_an_organisation():
    found = entities("tan woon yann", "THREE STOOGES (001451637-M)", "BISTRO & CAFE", "109, SS21/1A, DAMANSARA UTAMA",
                     kind="organisation")
    header = [e for e in found if e.subtype == "header"]
    assert [e.value for e in header] == ["THREE STOOGES"], "a lower-case proprietor and the registration number left out"
    assert values("Hello world", "nothing to see here", kind="organisation") == [], "a sentence is no name"


def test_a_registration_number_does_not_cut_a_trade_name():
    assert "TEO HENG STATIONERY BOOKS" in values("TEO HENG STATIONERY (001451637-M) BOOKS", kind="organisation")


def test_an_address_runs_on_to_the_place_under_its_postcode_and_house_number_lists_are_no_sums():
    found = values("BOOK TA.K (TAMAN DAYA) SDN BHD", "NO.53 55,57 & 59, JALAN SAGU 18,", "TAMAN DAYA,",
                   "45600 BATANG BERJUNTAI", "SELANGOR DARUL EHSAN", "TEL: 03-3271 9872", kind="address")
    assert found == ["NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 45600 BATANG BERJUNTAI SELANGOR DARUL EHSAN"]


def test_lines_one_above_the_other_are_never_merged_into_one():
    from tasks.extract.entities import _lines
    from tasks.extract.rules import Token

    upper = Token(text="LIGHT ROOM GALLERY SDN BHD", bbox=(0.1, 0.10, 0.6, 0.14), page_number=1, line=(1, 0, 0))
    lower = Token(text="NO:28, JALAN ASTANA 1C", bbox=(0.12, 0.125, 0.58, 0.165), page_number=1, line=(1, 0, 1))
    split = Token(text="RM", bbox=(0.62, 0.105, 0.66, 0.14), page_number=1, line=(1, 0, 2))
    assert [[t.text for t in row] for row in _lines([upper, lower, split])] == [
        ["LIGHT ROOM GALLERY SDN BHD", "RM"], ["NO:28, JALAN ASTANA 1C"]]


def test_company_before_a_registration_label_ends_no_name():
    found = entities("GL HANDICRAFT & TAILORING", "55100 KUALA LUMPUR", "MALAYSIA", "Company Reg No.:75495-W",
                     kind="organisation")
    assert "MALAYSIA Company" not in [e.value for e in found]


def test_a_trade_name_heading_the_page_outranks_a_company_lower_down():
    found = entities("PERNIAGAAN ZHENG HUI", "NO.59 JALAN PERMAS 9/6", "81750 JOHOR BAHRU", "", "", "",
                     "Supplied by GOGIANT ENGINEERING (M) SDN BHD", kind="organisation")
    [header] = [e for e in found if e.subtype == "business_header"]
    [legal] = [e for e in found if e.subtype == "legal_form"]
    assert header.value == "PERNIAGAAN ZHENG HUI" and header.confidence >= legal.confidence
