"""One PDF per section, a lossless copy of its pages (pypdf copies the page objects and their resources: nothing
is rendered again), put next to the results: <root>/splits/<job_id>/section-NNN-pSTART-END.pdf. A re-run
replaces the folder."""
from __future__ import annotations

import os
import tempfile

from tasks.split.points import SectionPlan
from tasks.store import ResultsStore


def section_file_name(section: SectionPlan) -> str:
    return f"section-{section.section_index + 1:03d}-p{section.page_start}-{section.page_end}.pdf"


def write_section_pdf(reader, section: SectionPlan, path: str) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for page in section.pages:
        writer.add_page(reader.pages[page - 1])
    with open(path, "wb") as handle:
        writer.write(handle)


def create_output_files(pdf_path: str, sections: list[SectionPlan], store_uri: str, job_id: str) -> list[str]:
    """Each section's PDF in the results store; their URIs, in section order."""
    from pypdf import PdfReader

    store = ResultsStore(store_uri)
    prefix = f"splits/{job_id}/"
    reader = PdfReader(pdf_path)
    with tempfile.TemporaryDirectory(prefix="docuforge-split-") as folder:
        files = {}
        for section in sections:
            name = section_file_name(section)
            write_section_pdf(reader, section, os.path.join(folder, name))
            files[prefix + name] = os.path.join(folder, name)
        store.replace_files(prefix, files)
    return [store.uri_of(prefix + section_file_name(section)) for section in sections]
