from tasks.markdown import page_markdown, page_text
from tasks.models import Block, Line


def _line(text: str, y: float, height: float = 0.02) -> Line:
    return Line(text=text, bbox=(0.1, y, 0.9, y + height), confidence=1.0, engine="text_layer")


def test_headings_paragraphs_and_lists():
    blocks = [
        Block(bbox=(0, 0, 1, 0.1), lines=[_line("Annual report", 0.05, height=0.045)]),
        Block(bbox=(0, 0.1, 1, 0.2), lines=[_line("Methods", 0.12, height=0.03)]),
        Block(bbox=(0, 0.2, 1, 0.3), lines=[_line("The results were pre-", 0.2), _line("pared carefully.", 0.23)]),
        Block(bbox=(0, 0.3, 1, 0.4), lines=[_line("• first point", 0.3), _line("continues here", 0.33),
                                             _line("- second point", 0.36)]),
        Block(bbox=(0, 0.4, 1, 0.5), lines=[_line("1. numbered", 0.4), _line("2) also numbered", 0.43)]),
    ]
    assert page_markdown(blocks) == (
        "# Annual report\n\n## Methods\n\nThe results were prepared carefully.\n\n"
        "- first point continues here\n- second point\n\n1. numbered\n2. also numbered"
    )
    assert page_text(blocks).startswith("Annual report\n\nMethods\n\nThe results were prepared carefully.\n\n")


def test_page_text_keeps_line_breaks_and_mends_only_words_split_by_a_hyphen():
    block = Block(bbox=(0, 0, 1, 0.2), lines=[_line("self-", 0.0), _line("publishing and 1990-", 0.03),
                                               _line("2000 figures -", 0.06), _line("done", 0.09)])
    assert page_text([block]) == "selfpublishing and 1990-\n2000 figures -\ndone"


def test_empty_page():
    assert page_markdown([]) == "" and page_text([]) == ""
