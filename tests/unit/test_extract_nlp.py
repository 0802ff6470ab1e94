from tasks.extract.nlp import extract_with_nlp
from tasks.extract.schema import FieldSpec, load_schema
from tests.unit.word_pages import page

RECEIPT = load_schema("receipt")

SHOP = page("      GOLDEN BAKERY SDN BHD (123456-X)",
            "      NO. 12, JALAN MERDEKA 3,",
            "      TAMAN DAYA,",
            "      81100 JOHOR BAHRU, JOHOR.",
            "      TEL: 07-355 1234",
            "Date: 05/04/2018   14:32        Printed 06/04/2018",
            "BREAD                    RM 4.50",
            "SUBTOTAL                RM 10.00",
            "GST 6%                   RM 0.60",
            "TOTAL INCL. GST        RM 10.60",
            "CASH                   RM 50.00",
            "CHANGE                 RM 39.40",
            "Thank you! Visit Golden Bakery Enterprise")


def fields(specs, tokens):
    return {r.field_name: r for r in extract_with_nlp(specs, tokens)}


def test_receipt_fields_with_confidence_and_citation():
    found = fields(RECEIPT.fields, SHOP)
    assert found["company"].value == "GOLDEN BAKERY SDN BHD"
    assert found["address"].value == "NO. 12, JALAN MERDEKA 3, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR."
    assert found["date"].value == "2018-04-05" and found["date"].value_date.isoformat() == "2018-04-05"
    assert found["total"].value == "10.60" and found["total"].value_number == 10.6
    assert all(r.valid and r.method == "nlp" and 0 < r.confidence <= 1 and r.page_number == 1
               for r in found.values())
    total_word = next(t for t in SHOP if t.text == "10.60")
    assert found["total"].bbox == total_word.bbox
    address_box = found["address"].bbox
    assert address_box[1] < 0.09 and address_box[3] > 0.14  # the citation spans the address's four lines


def test_labelled_entity_beats_a_more_prominent_one():
    tokens = page("ACME Widgets Ltd", "Invoice", "Sold by:   Beta Trading GmbH", "Due 30.04.2021",
                  "Date: 01.04.2021")
    specs = [FieldSpec(name="vendor", type="string", method="nlp", entity="organisation", hints=["sold by"]),
             FieldSpec(name="issuer", type="string", method="nlp", entity="organisation"),
             FieldSpec(name="date", type="date", method="nlp", hints=["date"])]
    found = fields(specs, tokens)
    assert found["vendor"].value == "Beta Trading GmbH" and found["issuer"].value == "ACME Widgets Ltd"
    assert found["vendor"].confidence > found["issuer"].confidence
    assert found["date"].value == "2021-04-01"


def test_total_beside_its_label_beats_the_larger_cash_below_it():
    tokens = page("TOTAL $ 9.00", "CASH $ 20.00", "Tax 8.25% $ 0.69")
    [total] = extract_with_nlp([RECEIPT.fields[3]], tokens)
    assert total.value == "9.00" and total.confidence == 0.85


def test_unlabelled_amount_is_the_largest_when_the_field_selects_it():
    tokens = page("Coffee   $ 3.50", "Cake   $ 4.25", "Tip   $ 1.00")
    largest = FieldSpec(name="sum", type="money", method="nlp", select="largest")
    first = FieldSpec(name="first", type="money", method="nlp")
    found = fields([largest, first], tokens)
    assert found["sum"].value == "4.25" and found["first"].value == "3.50"


def test_identifier_field_filtered_by_its_pattern():
    tokens = page("Receipt No: CS00012345", "IBAN DE89 3704 0044 0532 0130 00")
    spec = FieldSpec(name="iban", type="string", method="nlp", entity="identifier",
                     pattern=r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
    assert fields([spec], tokens)["iban"].value == "DE89370400440532013000"


def test_missing_fields_and_fields_without_an_entity_kind_say_why():
    specs = [FieldSpec(name="company", type="string", method="nlp", entity="organisation", required=True),
             FieldSpec(name="email", type="string", method="nlp", entity="email"),
             FieldSpec(name="note", type="string", method="nlp")]
    found = fields(specs, page("nothing to see here"))
    assert not found["company"].valid and found["company"].value is None
    assert found["company"].error == "required field not found: no organisation on the page"
    assert found["email"].valid and found["email"].value is None and "no email" in found["email"].error
    assert not found["note"].valid and "needs an entity kind" in found["note"].error
    assert [r.field_name for r in extract_with_nlp(specs, [])] == ["company", "email", "note"]
