from tasks.extract.auto import auto_pairs
from tests.unit.word_pages import page


def pairs(tokens):
    return {r.field_name: r for r in auto_pairs(tokens)}


def test_label_colon_value_on_one_line_typed_and_cited():
    tokens = page("Invoice Number: INV-7      Invoice Date: 5 March 2024",
                  "Amount Due: € 1.210,00",
                  "Customer: Jane Doe         Page 2")
    found = pairs(tokens)
    assert {name: (r.type, r.value) for name, r in found.items()} == {
        "Invoice Number": ("string", "INV-7"), "Invoice Date": ("date", "2024-03-05"),
        "Amount Due": ("money", "1210.00"), "Customer": ("string", "Jane Doe")}
    assert found["Amount Due"].value_number == 1210.0 and found["Invoice Date"].value_date.isoformat() == "2024-03-05"
    assert all(r.method == "auto" and r.valid and r.confidence == 0.9 for r in found.values())
    jane, doe = [t for t in tokens if t.text in ("Jane", "Doe")]
    assert found["Customer"].bbox == (jane.bbox[0], jane.bbox[1], doe.bbox[2], doe.bbox[3])
    assert found["Customer"].page_number == 1


def test_label_above_its_value_and_labels_are_never_values():
    found = pairs(page("Bill To:            Ship To:            Due Date:",
                       "Taylor Riddel       Taylor's Store      04/04/2023"))
    assert {name: r.value for name, r in found.items()} == {
        "Bill To": "Taylor Riddel", "Ship To": "Taylor's Store", "Due Date": "2023-04-04"}
    assert found["Due Date"].confidence == 0.8


def test_checkboxes_before_or_after_their_label():
    found = pairs(page("☑ Paid     ☐ Overdue     [x] Signed", "Express [ ]     Gift wrap ■"))
    assert {name: r.value_bool for name, r in found.items()} == {
        "Paid": True, "Overdue": False, "Signed": True, "Express": False, "Gift wrap": True}
    assert all(r.type == "boolean" and r.value in ("true", "false") for r in found.values())


def test_no_pairs_from_sentences_times_urls_or_percentages_as_money():
    found = pairs(page("Please use the following communication for your payment: 202309097001",
                       "Meeting at 10:30 in room 4",
                       "Visit http://www.example.com today",
                       "Tax: 0.2%"))
    assert {name: (r.type, r.value) for name, r in found.items()} == {"Tax": ("string", "0.2%")}


def test_repeated_labels_are_kept_in_reading_order_with_a_number():
    found = auto_pairs(page("Notes: first", "Parts: 1 x cap", "Notes: second", "Notes: third"))
    assert [(r.field_name, r.value) for r in found] == [
        ("Notes", "first"), ("Parts", "1 x cap"), ("Notes (2)", "second"), ("Notes (3)", "third")]


def test_a_table_cell_pairs_with_its_row_label_and_its_column_header():
    found = auto_pairs(page("                 SCORE      BASE",
                            "Male             1.9        (104)",
                            "Female           5.0        (120)"))
    assert sorted((r.field_name.split(" (")[0], r.value) for r in found) == sorted([
        ("Male", "1.9"), ("SCORE", "1.9"), ("Male", "(104)"), ("BASE", "(104)"),
        ("Female", "5.0"), ("SCORE", "5.0"), ("Female", "(120)"), ("BASE", "(120)")]), "a header row is no pair"
    assert {r.confidence for r in found if r.field_name.startswith(("Male", "Female"))} == {0.9}
    assert {r.confidence for r in found if r.field_name.startswith(("SCORE", "BASE"))} == {0.8}


def test_a_number_beside_its_label_takes_its_unit_and_no_header():
    found = pairs(page("Physical Characteristics",
                       "Tobacco Rod Length      64   mm",
                       "Filter Plug Length      20   mm"))
    assert {name: r.value for name, r in found.items()} == {"Tobacco Rod Length": "64 mm",
                                                            "Filter Plug Length": "20 mm"}


def test_rows_that_alternate_label_and_value():
    found = pairs(page("Maker     AMF      Labels     White", "Please call 555 1234 today", "",
                       "SUPPLIER          SHIP TO"))
    assert {name: r.value for name, r in found.items()} == {"Maker": "AMF", "Labels": "White"}, \
        "two headings in capitals are no pair"


def test_a_row_label_on_two_lines():
    first, second = page("STRENGTH        4.31     4.59"), page("(7=Stronger)", "")
    second = [t.model_copy(update={"bbox": (t.bbox[0], t.bbox[1] + 0.008, t.bbox[2], t.bbox[3] + 0.008),
                                   "line": (1, 0, 1)}) for t in second]
    found = auto_pairs(first + second)
    assert [(r.field_name, r.value) for r in found] == [("STRENGTH (7=Stronger)", "4.31"),
                                                        ("STRENGTH (7=Stronger) (2)", "4.59")]
