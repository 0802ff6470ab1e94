"""Splitting on real PDFs from ../shared/benchmarks: criteria, split points, sections, section content, output files.

Page facts come from the project's own text-layer reader (what the `pages` table holds for digital pages)."""
from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from tasks.errors import BadInput
from tasks.split.criteria import SplitCriteria, as_criteria, criteria_from_specs
from tasks.split.output import create_output_files
from tasks.split.points import (
    analyse_structure, check_criteria, identify_split_points, page_label, read_outline, split_into_sections,
)
from tasks.split.sections import detect_language, section_content, summarise
from tasks.store import ResultsStore
from tasks.textlayer import read_text_layer

pytestmark = pytest.mark.benchmarks
REDBOOK = "pdfs/born_digital/redp5110_sampled.pdf"  # 18 pages; page 17 is the blank back of the last leaf


def structure_of(pdf: Path, outline: bool = False):
    num_pages = len(PdfReader(pdf).pages)
    rows = [{"page_number": n, "status": "ok", "text": read_text_layer(str(pdf), n).text}
            for n in range(1, num_pages + 1)]
    return analyse_structure(str(pdf), num_pages, rows, set(), set(), with_outline=outline)


def ranges(pdf: Path, criteria: SplitCriteria, outline: bool = False) -> list[tuple[int, int]]:
    structure = structure_of(pdf, outline)
    sections = split_into_sections(structure, identify_split_points(structure, criteria), criteria)
    return [(s.page_start, s.page_end) for s in sections]


def bundle(benchmarks: Path, tmp_path: Path, names: list[str], blank_after: bool = False) -> Path:
    """Real documents concatenated, one top-level bookmark each (as PDF tools bundle them)."""
    writer = PdfWriter()
    for name in names:
        writer.append(str(benchmarks / name), outline_item=Path(name).stem)
        if blank_after:
            writer.add_blank_page()
    path = tmp_path / "bundle.pdf"
    writer.write(path)
    return path


def test_cli_specs_combine_into_one_criteria_model():
    criteria = criteria_from_specs(["outline:2", "blank", "max-pages:10", "pages:1-3,4-9", "every:4", "documents"])
    assert criteria == SplitCriteria(outline_level=2, blank_pages=True, max_pages=10, page_ranges="1-3,4-9",
                                     every_pages=4, documents=True)
    assert criteria_from_specs(["outline"]).outline_level == 1
    for bad in (["every:0"], ["every:x"], ["outline:top"], ["headings"], ["blank:yes"], ["every:2", "every:3"]):
        with pytest.raises(BadInput):
            criteria_from_specs(bad)
    with pytest.raises(BadInput, match="needs split criteria"):
        as_criteria(None)
    with pytest.raises(BadInput):
        as_criteria({"every_pages": 2, "colour": "red"})


def test_fixed_ranges_every_n_and_max_pages_on_a_real_report(benchmarks):
    pdf = benchmarks / REDBOOK
    assert ranges(pdf, SplitCriteria(page_ranges="1-3,4-9")) == [(1, 3), (4, 9)], "pages outside the ranges are left out"
    assert ranges(pdf, SplitCriteria(every_pages=5)) == [(1, 5), (6, 10), (11, 15), (16, 18)]
    assert ranges(pdf, SplitCriteria(page_ranges="2-9", max_pages=3)) == [(2, 4), (5, 7), (8, 9)]


def test_a_blank_page_ends_a_section_and_is_dropped(benchmarks):
    pdf = benchmarks / REDBOOK
    structure = structure_of(pdf)
    assert [p.page_number for p in structure.pages if p.blank] == [17], "only the empty leaf, not sparse pages"
    split = identify_split_points(structure, SplitCriteria(blank_pages=True, max_pages=8))
    assert split.dropped == {17: "blank"}
    sections = split_into_sections(structure, split, SplitCriteria(blank_pages=True, max_pages=8))
    assert [(s.page_start, s.page_end, s.boundary_reason) for s in sections] == [
        (1, 8, "start"), (9, 16, "max pages"), (18, 18, "after blank page(s)")]


def test_outline_levels_split_a_bundle_at_its_bookmarks(benchmarks, tmp_path):
    pdf = bundle(benchmarks, tmp_path, ["invoices/coolblue1.pdf", "invoices/QualityHosting.pdf",
                                        "pdfs/born_digital/multi_page.pdf", "pdfs/born_digital/2305.03393v1-pg9.pdf"])
    outline = read_outline(str(pdf))
    assert [(e.level, e.page_number) for e in outline if e.level == 1] == [(1, 1), (1, 2), (1, 4), (1, 9)]
    assert {(e.level, e.title, e.page_number) for e in outline if e.level == 2} >= {
        (2, "Page 1", 1), (2, "Optimized Table Tokenization for Table Structure Recognition", 9)}, \
        "each document's own bookmarks are kept one level down"
    assert ranges(pdf, SplitCriteria(outline_level=1), outline=True) == [(1, 1), (2, 3), (4, 8), (9, 9)]
    structure = structure_of(pdf, outline=True)
    sections = split_into_sections(structure, identify_split_points(structure, SplitCriteria(outline_level=1)),
                                   SplitCriteria(outline_level=1))
    assert [s.boundary_reason for s in sections] == ["start; outline: coolblue1", "outline: QualityHosting",
                                                     "outline: multi_page", "outline: 2305.03393v1-pg9"]


def test_restarting_page_numbers_mark_the_documents_of_a_bundle(benchmarks, tmp_path):
    assert page_label("Rechnung      Seite 2") == (2, None) and page_label("S: S132415345   page 1 of 1") == (1, 1)
    assert page_label("see page 12 for details") is None
    pdf = bundle(benchmarks, tmp_path, ["invoices/FlipkartInvoice.pdf", "invoices/QualityHosting.pdf",
                                        "invoices/FlipkartInvoice.pdf"])
    assert ranges(pdf, SplitCriteria(documents=True)) == [(1, 1), (2, 3), (4, 4)], \
        "'Seite 1' after 'page 1 of 1', then 'page 1 of 1' after 'Seite 2'"


def test_criteria_that_cannot_apply_are_bad_input(benchmarks):
    pdf = str(benchmarks / REDBOOK)
    with pytest.raises(BadInput, match="no outline"):
        check_criteria(SplitCriteria(outline_level=1), "application/pdf", 18, pdf)
    with pytest.raises(BadInput, match="past the last page"):
        check_criteria(SplitCriteria(page_ranges="1-3,10-20"), "application/pdf", 18, pdf)
    with pytest.raises(BadInput, match="overlap"):
        check_criteria(SplitCriteria(page_ranges="1-5,4-9"), "application/pdf", 18, pdf)
    with pytest.raises(BadInput, match="needs a PDF"):
        check_criteria(SplitCriteria(every_pages=1), "image/png", 1, str(benchmarks / "invoices/coolblue1.pdf"))


@pytest.mark.parametrize("name, kind, language", [
    ("coolblue1", "invoice", "nl"), ("QualityHosting", "invoice", "de"), ("AmazonWebServices", "invoice", "en"),
])
def test_invoices_are_typed_and_their_language_detected(benchmarks, name, kind, language):
    text = (benchmarks / "invoices" / f"{name}.pdftotext.txt").read_text()
    content = section_content(text.split("\f"), 0, 0, 1)
    assert (content.section_type, content.language) == (kind, language)
    assert content.word_count == len(content.text.split()) > 50 and content.summary


def test_a_letter_a_report_and_text_too_short_to_tell(benchmarks):
    letter = (benchmarks / "pdfs/scanned/slerexe_letter_ccitt1.gt.txt").read_text()
    assert section_content([letter], 0, 0, 1).section_type == "letter"
    essay = (benchmarks / "pdfs/born_digital/multi_page.pdftotext.txt").read_text()
    content = section_content(essay.split("\f"), 0, 0, 5, summary_length="long")
    assert content.section_type == "report" and content.language == "en"
    assert content.summary[:80] in " ".join(essay.split()), "extractive: its sentences are the text's own"
    assert len(summarise(essay, "long")) > len(summarise(essay, "short"))
    assert detect_language("Total 12") is None
    assert section_content([""], 0, 0, 1).section_type == "empty"


def test_section_pdfs_are_lossless_page_copies_in_the_store(benchmarks, tmp_path):
    pdf = benchmarks / REDBOOK
    criteria = SplitCriteria(page_ranges="1-3,4-9,18")
    structure = structure_of(pdf)
    sections = split_into_sections(structure, identify_split_points(structure, criteria), criteria)
    uris = create_output_files(str(pdf), sections, str(tmp_path / "results"), "job1")
    assert [Path(uri).name for uri in uris] == ["section-001-p1-3.pdf", "section-002-p4-9.pdf",
                                                "section-003-p18-18.pdf"]
    original = PdfReader(pdf)
    for section, uri in zip(sections, uris):
        copy = PdfReader(uri)
        assert len(copy.pages) == len(section.pages)
        for page, number in zip(copy.pages, section.pages):
            assert page.get_contents().get_data() == original.pages[number - 1].get_contents().get_data()
    again = create_output_files(str(pdf), sections[:1], str(tmp_path / "results"), "job1")
    store = ResultsStore(str(tmp_path / "results"))
    assert sorted(Path(p).name for p in Path(store.uri, "splits", "job1").iterdir()) == [Path(again[0]).name], \
        "a re-run replaces the job's files"
