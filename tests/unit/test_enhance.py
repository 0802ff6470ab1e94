from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytesseract
import pytest
from pdf2image import convert_from_path
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from tasks.enhance import detect_orientation, enhance_page, estimate_skew, more_legible_turn
from tasks.errors import CorruptDocument
from tasks.models import EnhanceOptions, PageImage

DPI = 150
A4_AT_150_DPI = (1240, 1754)
SAMPLE_TEXT = [
    "Invoice 2024-0117 was issued in May",
    "The quick brown fox jumps over a dog",
    "Payment is due within thirty days",
    "Quote the reference when you pay",
    "Goods remain ours until paid in full",
]
NEMOTRON_UPRIGHT_ROTATION = {1: 0, 2: 180, 3: 270, 4: 90}
"""Clockwise turn that makes each page of nemotron_multipage.pdf upright (checked by OCR)."""
ALL_OFF = EnhanceOptions(grayscale=False, orientation=False, deskew=False, denoise=False, binarize=False)
BELOW_FIVE_LINES = slice(600, None)
"""Rows of a text_page(lines=5) under its text: bare paper."""


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def cer(text: str, truth: str) -> float:
    return Levenshtein.distance(normalise(text), normalise(truth)) / max(1, len(normalise(truth)))


def only(**enabled: bool) -> EnhanceOptions:
    return ALL_OFF.model_copy(update=enabled)


def text_page(lines: int = 24) -> Image.Image:
    """An A4 page at 150 dpi with `lines` lines of text in a 40 px font."""
    page = Image.new("L", A4_AT_150_DPI, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=40)
    for i in range(lines):
        draw.text((90, 120 + 62 * i), SAMPLE_TEXT[i % len(SAMPLE_TEXT)], font=font, fill=0)
    return page


def skewed(page: Image.Image, counter_clockwise_deg: float) -> Image.Image:
    return page.rotate(counter_clockwise_deg, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def save(image: Image.Image | np.ndarray, path: Path) -> PageImage:
    image = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    image.save(path)
    return PageImage(page_number=1, path=str(path), dpi=DPI, width=image.width, height=image.height)


def ink_pixels(gray: np.ndarray) -> int:
    return int((gray < 128).sum())


@pytest.fixture(scope="module")
def nemotron_pages(benchmarks: Path, tmp_path_factory) -> dict[int, PageImage]:
    pdf = benchmarks / "pdfs" / "scanned" / "nemotron_multipage.pdf"
    folder = tmp_path_factory.mktemp("nemotron")
    return {
        number: save(convert_from_path(pdf, dpi=DPI, first_page=number, last_page=number)[0], folder / f"p{number}.png")
        for number in NEMOTRON_UPRIGHT_ROTATION
    }


@pytest.fixture(scope="module")
def nemotron_truth(benchmarks: Path) -> list[str]:
    return (benchmarks / "pdfs" / "scanned" / "nemotron_multipage.gt.txt").read_text().split("\f")


@pytest.mark.parametrize("angle", [-12.0, -4.5, -0.8, 0.0, 0.6, 2.3, 9.0])
def test_estimate_skew_measures_a_known_rotation(angle: float):
    gray = np.array(skewed(text_page(), angle))
    assert estimate_skew(gray) == pytest.approx(angle, abs=0.3)


def test_estimate_skew_on_a_real_scan(benchmarks: Path):
    scan = convert_from_path(benchmarks / "pdfs" / "scanned" / "slerexe_letter_ccitt1.pdf", dpi=DPI, grayscale=True)[0]
    assert estimate_skew(np.array(scan)) == pytest.approx(0.0, abs=0.3)
    assert estimate_skew(np.array(skewed(scan, -3.2))) == pytest.approx(-3.2, abs=0.3)


def test_estimate_skew_is_zero_without_text_lines():
    rng = np.random.default_rng(0)
    blank = np.full(A4_AT_150_DPI[::-1], 255, np.uint8)
    speckle = np.where(rng.random(blank.shape) < 0.01, 0, 255).astype(np.uint8)
    assert estimate_skew(blank) == 0.0
    assert estimate_skew(speckle) == 0.0


@pytest.mark.parametrize("number", sorted(NEMOTRON_UPRIGHT_ROTATION))
def test_detect_orientation_on_rotated_scans(nemotron_pages: dict[int, PageImage], number: int):
    page = nemotron_pages[number]
    assert detect_orientation(page.path, page.dpi) == NEMOTRON_UPRIGHT_ROTATION[number]


@pytest.mark.parametrize("number", sorted(NEMOTRON_UPRIGHT_ROTATION))
def test_enhanced_rotated_scans_read_correctly(
    nemotron_pages: dict[int, PageImage], nemotron_truth: list[str], tmp_path: Path, number: int
):
    result = enhance_page(nemotron_pages[number], EnhanceOptions(), str(tmp_path / "out.png"))
    assert result.rotation == NEMOTRON_UPRIGHT_ROTATION[number]
    assert result.height > result.width  # upright A4 is portrait
    assert cer(pytesseract.image_to_string(result.path), nemotron_truth[number - 1]) <= 0.1


@pytest.mark.parametrize("counter_clockwise,proposed,upright", [(0, 180, 0), (180, 0, 180), (90, 270, 90)])
def test_the_more_legible_of_two_opposite_turns_wins(counter_clockwise: int, proposed: int, upright: int):
    page = np.array(text_page(lines=8).rotate(counter_clockwise, expand=True, fillcolor=255))
    assert more_legible_turn(page, DPI, proposed) == upright
    assert more_legible_turn(page, DPI, upright) == upright


def test_detect_orientation_is_zero_when_there_is_too_little_text(tmp_path: Path):
    blank = save(Image.new("L", A4_AT_150_DPI, 255), tmp_path / "blank.png")
    one_word = Image.new("L", A4_AT_150_DPI, 255)
    ImageDraw.Draw(one_word).text((200, 300), "Invoice", font=ImageFont.load_default(size=40), fill=0)
    upside_down_word = save(one_word.rotate(180), tmp_path / "word.png")
    assert detect_orientation(blank.path, DPI) == 0
    assert detect_orientation(upside_down_word.path, DPI) == 0


def test_blank_page_is_left_as_it_is(tmp_path: Path):
    blank = save(Image.new("L", A4_AT_150_DPI, 255), tmp_path / "blank.png")
    result = enhance_page(blank, EnhanceOptions(), str(tmp_path / "out.png"))
    assert (result.rotation, result.skew_deg) == (0, 0.0)
    assert (result.width, result.height) == A4_AT_150_DPI
    assert Path(result.path).is_file()


def test_deskew_straightens_and_keeps_the_whole_page(tmp_path: Path):
    page = save(skewed(text_page(), 5.0), tmp_path / "skewed.png")
    result = enhance_page(page, EnhanceOptions(orientation=False), str(tmp_path / "out.png"))
    before = cv2.imread(page.path, cv2.IMREAD_GRAYSCALE)
    after = cv2.imread(result.path, cv2.IMREAD_GRAYSCALE)
    assert result.skew_deg == pytest.approx(5.0, abs=0.3)
    assert after.shape == (result.height, result.width)
    assert result.width > page.width and result.height > page.height
    assert estimate_skew(after) == pytest.approx(0.0, abs=0.3)
    assert ink_pixels(after) == pytest.approx(ink_pixels(before), rel=0.05)
    corners = [after[:10, :10], after[:10, -10:], after[-10:, :10], after[-10:, -10:]]
    assert all(corner.min() > 200 for corner in corners)  # the new border is white


def test_tiny_skew_is_not_corrected(tmp_path: Path):
    page = save(skewed(text_page(), 0.1), tmp_path / "page.png")
    result = enhance_page(page, EnhanceOptions(orientation=False), str(tmp_path / "out.png"))
    assert result.skew_deg == 0.0
    assert (result.width, result.height) == (page.width, page.height)


def test_all_options_off_copies_the_page(tmp_path: Path):
    colour = np.full((300, 400, 3), (255, 0, 0), np.uint8)
    colour[100:200, 100:300] = (10, 200, 30)
    page = save(colour, tmp_path / "colour.png")
    result = enhance_page(page, ALL_OFF, str(tmp_path / "out.png"))
    assert (result.rotation, result.skew_deg, result.path) == (0, 0.0, str(tmp_path / "out.png"))
    assert np.array_equal(np.array(Image.open(result.path)), colour)


def test_grayscale_writes_one_channel(tmp_path: Path):
    page = save(text_page().convert("RGB"), tmp_path / "rgb.png")
    result = enhance_page(page, only(grayscale=True), str(tmp_path / "out.png"))
    assert cv2.imread(result.path, cv2.IMREAD_UNCHANGED).ndim == 2


def test_denoise_removes_speckle_and_keeps_text(tmp_path: Path):
    text = np.array(text_page(lines=5))
    rng = np.random.default_rng(1)
    noisy = np.where(rng.random(text.shape) < 0.02, 0, text).astype(np.uint8)
    page = save(noisy, tmp_path / "noisy.png")
    result = enhance_page(page, only(grayscale=True, denoise=True), str(tmp_path / "out.png"))
    cleaned = cv2.imread(result.path, cv2.IMREAD_GRAYSCALE)
    assert ink_pixels(noisy[BELOW_FIVE_LINES]) > 20_000
    assert ink_pixels(cleaned[BELOW_FIVE_LINES]) < 200
    assert cer(pytesseract.image_to_string(result.path), "\n".join(SAMPLE_TEXT)) <= 0.1


def test_binarize_survives_a_shadow(tmp_path: Path):
    text = np.array(text_page(lines=5), np.float32)
    shadow = np.linspace(0.35, 1.0, text.shape[1])[None, :]
    page = save((text * shadow).astype(np.uint8), tmp_path / "shadowed.png")
    result = enhance_page(page, only(binarize=True), str(tmp_path / "out.png"))
    binary = cv2.imread(result.path, cv2.IMREAD_UNCHANGED)
    assert set(np.unique(binary)) <= {0, 255}
    assert ink_pixels(binary[BELOW_FIVE_LINES]) == 0  # the shaded paper turned white, not black
    assert cer(pytesseract.image_to_string(result.path), "\n".join(SAMPLE_TEXT)) <= 0.1


def test_unreadable_page_is_a_corrupt_document(tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    page = PageImage(page_number=1, path=str(broken), dpi=DPI, width=10, height=10)
    with pytest.raises(CorruptDocument):
        enhance_page(page, EnhanceOptions(), str(tmp_path / "out.png"))


def test_blank_page_is_recognised_as_blank(tmp_path):
    from tasks.enhance import is_blank

    blank, text = tmp_path / "blank.png", tmp_path / "text.png"
    Image.new("L", (1200, 1600), 255).save(blank)
    page = Image.new("L", (1200, 1600), 255)
    ImageDraw.Draw(page).text((100, 100), "7", font=ImageFont.load_default(size=30), fill=0)
    page.save(text)
    assert is_blank(str(blank)) and not is_blank(str(text))
