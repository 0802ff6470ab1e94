"""process_document finds tables and figures: rows in `tables` and `figures`, crops next to the results, tables in
the page Markdown; on digital pages (text layer) and on scans (OCR words)."""
from __future__ import annotations

import duckdb
import pytest
from PIL import Image

from flows.pipeline import process_document
from tasks.models import ProcessOptions
from tasks.store import ResultsStore

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.timeout(600)]

FUNCTION_USAGE = [["Column name", "Data type", "Description"], ["FUNCTION_ID", "VARCHAR(30)", "ID of the function."]]
"""The first rows of Table 2-1 on page 8 of redp5110_sampled.pdf (a ruled table)."""


def run(source, results, **options):
    state = process_document(source=str(source), options=ProcessOptions(**options), results_uri=str(results),
                             return_state=True)
    return state.result(raise_on_failure=False)


def rows(results, table: str) -> list[dict]:
    return duckdb.sql(f"select * from read_parquet('{results}/{table}/**/*.parquet', hive_partitioning=true) "
                      "order by page_number").df().to_dict("records")


def test_tables_and_figures_on_digital_pages(benchmarks, tmp_path):
    redbook = benchmarks / "pdfs/born_digital/redp5110_sampled.pdf"
    summary = run(redbook, tmp_path, pages="7-8")
    assert summary.status == "completed"

    tables = rows(tmp_path, "tables")
    assert [(t["page_number"], t["table_id"]) for t in tables] == [(8, 0), (8, 1)]
    first = tables[0]
    assert (first["n_rows"], first["n_cols"]) == (5, 3)
    grid = {(c["row"], c["col"]): c["text"] for c in first["cells"]}
    assert [[grid[(r, c)] for c in range(3)] for r in range(2)] == FUNCTION_USAGE
    assert first["html"].startswith("<table>") and "<td>FUNCTION_ID</td>" in first["html"]
    assert first["markdown"].startswith("| Column name | Data type | Description |\n|---|---|---|")

    pages = {p["page_number"]: p for p in rows(tmp_path, "pages")}
    markdown = pages[8]["markdown"]
    assert first["markdown"] in markdown and tables[1]["markdown"] in markdown
    assert markdown.count("ID of the function.") == 1, "the table's lines are replaced, not repeated"
    assert markdown.index("Table 2-1 FUNCTION_USAGE view") < markdown.index(first["markdown"]), "in reading order"
    assert pages[8]["text"].count("ID of the function.") == 1

    (figure,) = rows(tmp_path, "figures")
    assert figure["page_number"] == 7 and figure["figure_id"] == 0
    assert figure["caption"] == "Figure 1-2 Existing row and column controls"
    assert figure["crop_uri"].startswith(f"{tmp_path}/crops/{summary.job_id}/")
    with Image.open(figure["crop_uri"]) as crop:
        assert crop.format == "PNG" and crop.width > 200 and crop.height > 100

    again = run(redbook, tmp_path, pages="7-8")
    assert again.job_id == summary.job_id
    assert len(rows(tmp_path, "tables")) == 2 and len(rows(tmp_path, "figures")) == 1, "a re-run replaces"
    assert len(list((tmp_path / "crops").rglob("*.png"))) == 1

    without = run(redbook, tmp_path / "without", pages="8", tables=False, figures=False)
    assert without.status == "completed"
    store = ResultsStore(str(tmp_path / "without"))
    assert store.read("tables").num_rows == 0 and store.read("figures").num_rows == 0
    assert "|---|" not in store.read("pages").to_pylist()[0]["markdown"]


def test_table_on_a_scanned_page_sideways(benchmarks, tmp_path):
    """A scan of a ruled table, fed in turned a quarter: the table is found on the upright page, its cells filled
    from the OCR words."""
    from pdf2image import convert_from_path

    (page,) = convert_from_path(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf", dpi=200, first_page=12,
                                last_page=12, grayscale=True)
    scan = tmp_path / "scan.png"
    page.rotate(90, expand=True).save(scan, dpi=(200, 200))
    summary = run(scan, tmp_path / "results", ocr_mode="fast")
    assert summary.status == "completed"

    (result,) = ResultsStore(str(tmp_path / "results")).read("pages").to_pylist()
    assert result["text_source"] == "ocr" and result["rotation"] in (90, 270)
    (table,) = ResultsStore(str(tmp_path / "results")).read("tables").to_pylist()
    assert table["n_cols"] == 3 and table["n_rows"] >= 10
    by_row: dict[int, list[str]] = {}
    for cell in sorted(table["cells"], key=lambda c: (c["row"], c["col"])):
        by_row.setdefault(cell["row"], []).append(cell["text"])
    assert ["CLIENT_PORT", "INTEGER", "Port used by the current client to communicate with the server"] in \
        by_row.values()
    assert table["markdown"] in result["markdown"]
    assert result["markdown"].count("Port used by the current client") == 1


def test_figure_crops_go_to_the_s3_results(benchmarks, s3_bucket_name):
    import boto3

    results = f"s3://{s3_bucket_name}/results"
    summary = run(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf", results, pages="7")
    (figure,) = ResultsStore(results).read("figures").to_pylist()
    key = f"results/crops/{summary.job_id}/page-00007-figure-0.png"
    assert figure["crop_uri"] == f"s3://{s3_bucket_name}/{key}"
    body = boto3.client("s3").get_object(Bucket=s3_bucket_name, Key=key)["Body"].read()
    assert body.startswith(b"\x89PNG")
