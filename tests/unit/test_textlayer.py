import pytest

from tasks.textlayer import image_regions, read_text_layer

BORN_DIGITAL = ["2305.03393v1-pg9", "amt_handbook_sample", "code_and_formula", "multi_page", "redp5110_sampled"]


@pytest.mark.parametrize("name", BORN_DIGITAL)
def test_text_layer_equals_pdftotext_ground_truth(benchmarks, name):
    folder = benchmarks / "pdfs/born_digital"
    truth = (folder / f"{name}.pdftotext.txt").read_text().split("\f")
    for number, expected in enumerate(truth[:-1], start=1):
        page = read_text_layer(str(folder / f"{name}.pdf"), number)
        assert page.text == expected, f"{name} page {number}"
        words = "".join(w.text for b in page.blocks for line in b.lines for w in line.words)
        # pdftotext's plain text joins words hyphenated across lines; the word boxes keep both halves
        assert _letters(words) == _letters(expected), "word boxes cover the text"


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace() and ch != "-")


def test_word_boxes_are_normalised_and_ordered(benchmarks):
    page = read_text_layer(str(benchmarks / "pdfs/born_digital/amt_handbook_sample.pdf"), 1)
    boxes = [w.bbox for b in page.blocks for line in b.lines for w in line.words]
    assert all(0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 for x0, y0, x1, y1 in boxes)


def test_scanned_page_has_no_text_layer_but_an_image(benchmarks):
    path = str(benchmarks / "pdfs/scanned/ocr_test.pdf")
    assert read_text_layer(path, 1).visible_chars == 0
    assert image_regions(path, 1) == [(0.0, 0.0, 1.0, 1.0)]


def test_digital_page_with_figures_reports_image_regions(benchmarks):
    regions = image_regions(str(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf"), 1)
    assert len(regions) == 1 and regions[0][0] > 0.1 and regions[0][3] < 0.9


def test_pages_read_from_many_threads_at_once(benchmarks):
    """Pages run on a thread pool; PDFium is not thread-safe, so this must not corrupt anything."""
    from concurrent.futures import ThreadPoolExecutor

    path = str(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf")
    expected = [image_regions(path, n) for n in range(1, 19)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(lambda n: image_regions(path, n), range(1, 19))) == expected
