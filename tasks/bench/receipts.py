"""Synthetic scanned receipts with exact ground truth.

Each receipt is drawn in a monospace font at till-roll width (a shop with a legal form, a multi-line address, a
phone, a date written the shop country's way, items, subtotal, tax, total, cash and change), then scanned: turned
slightly, blurred, noised and JPEG-compressed with the degradations of `tasks.bench.degrade`. `X.png` and its
`X.json` ground truth (company, date ISO, address with its lines joined by spaces, total) are written side by side,
so `docuforge bench receipts` (or `docuforge bench extract DIR --images --schema receipt`) scores them.
"""
from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel

from tasks.bench.degrade import DEGRADATIONS, page_rng

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
FONT_SIZE = 22
WIDTH_CHARS = 40
MARGIN = 36
LINE_SPACING = 1.35
DPI = 200
PAPER, INK = 238, 35

ITEMS = ["COFFEE", "TEA", "BREAD", "MILK 1L", "EGGS 10", "RICE 5KG", "SUGAR", "PEN BLUE", "A4 PAPER", "NOTEBOOK",
         "BATTERY AA", "SOAP", "SHAMPOO", "NOODLES", "APPLE", "BANANA", "WATER 1.5L", "CHICKEN", "BUTTER", "CHEESE"]
NAMES = ["GOLDEN", "SUNRISE", "EVERGREEN", "HAPPY", "CITY", "ROYAL", "UNITED", "PERFECT", "BRIGHT", "OCEAN"]
TRADES = ["TRADING", "STATIONERY", "HARDWARE", "MART", "BAKERY", "FOOD", "SUPPLIES", "RETAIL", "PHARMACY"]
MONTH_ABBREVIATIONS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class Receipt(BaseModel):
    company: str
    header: list[str]
    """Lines between the company and the address (a registration number)."""
    address: list[str]
    phone: str
    date: date
    written_date: str
    date_label: str
    currency: str
    decimal_comma: bool
    items: list[tuple[str, int, Decimal]]
    tax_label: str
    tax_rate: Decimal
    total_label: str

    @property
    def subtotal(self) -> Decimal:
        return sum((quantity * price for _, quantity, price in self.items), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.tax_rate).quantize(Decimal("0.01"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    def truth(self) -> dict:
        return {"company": self.company, "date": self.date.isoformat(), "address": " ".join(self.address),
                "total": str(self.total)}


def _money(receipt: Receipt, value: Decimal) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if receipt.decimal_comma else text


def _malaysia(rng: random.Random, day: date) -> dict:
    name = f"{rng.choice(NAMES)} {rng.choice(TRADES)}"
    return dict(
        company=f"{name} {rng.choice(['SDN BHD', 'SDN. BHD.', 'ENTERPRISE'])}",
        header=[f"(CO. REG: {rng.randint(100000, 999999)}-{rng.choice('AKTUVWX')})"],
        address=[f"NO. {rng.randint(1, 120)}, JALAN {rng.choice(['MERDEKA', 'BUNGA RAYA', 'SETIA', 'PERMAS'])} "
                 f"{rng.randint(1, 20)},", f"TAMAN {rng.choice(['DAYA', 'UNIVERSITI', 'MOLEK', 'PELANGI'])},",
                 f"{rng.randint(40000, 88000)} {rng.choice(['JOHOR BAHRU', 'SHAH ALAM', 'KUALA LUMPUR'])},",
                 f"{rng.choice(['JOHOR', 'SELANGOR', 'WILAYAH PERSEKUTUAN'])}."],
        phone=f"TEL: 0{rng.choice([3, 4, 5, 7])}-{rng.randint(200, 999)} {rng.randint(1000, 9999)}",
        written_date=rng.choice([f"{day:%d/%m/%Y}", f"{day:%d-%m-%Y}", f"{day.day:02d}-"
                                 f"{MONTH_ABBREVIATIONS[day.month - 1].upper()}-{day:%y}"]),
        date_label=rng.choice(["DATE:", "DATE", "TARIKH:"]), currency="RM", decimal_comma=False,
        tax_label="GST 6%", tax_rate=Decimal("0.06"), total_label=rng.choice(["TOTAL", "TOTAL (RM)", "JUMLAH"]),
    )


def _britain(rng: random.Random, day: date) -> dict:
    return dict(
        company=f"{rng.choice(NAMES).title()} {rng.choice(TRADES).title()} {rng.choice(['Ltd', 'Limited', 'PLC'])}",
        header=[f"VAT No: GB{rng.randint(100, 999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}"],
        address=[f"{rng.randint(1, 250)} {rng.choice(['High', 'Church', 'Station', 'Park'])} "
                 f"{rng.choice(['Street', 'Road', 'Lane'])},",
                 f"{rng.choice(['London', 'Leeds', 'Bristol'])} {rng.choice(['SW1A', 'LS1', 'BS8'])} "
                 f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}"],
        phone=f"Tel: 020 79{rng.randint(10, 99)} {rng.randint(1000, 9999)}",
        written_date=rng.choice([f"{day:%d/%m/%Y}", f"{day.day} {MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"]),
        date_label=rng.choice(["Date:", "Date", ""]), currency="£", decimal_comma=False,
        tax_label="VAT 20%", tax_rate=Decimal("0.20"), total_label=rng.choice(["TOTAL", "Balance Due"]),
    )


def _germany(rng: random.Random, day: date) -> dict:
    return dict(
        company=f"{rng.choice(['Müller', 'Schmidt', 'Becker', 'Hoffmann'])} "
                f"{rng.choice(['Backwaren', 'Handel', 'Markt', 'Bürobedarf'])} "
                f"{rng.choice(['GmbH', 'GmbH & Co. KG', 'AG'])}",
        header=[],
        address=[f"{rng.choice(['Haupt', 'Bahnhof', 'Garten', 'Linden'])}{rng.choice(['straße', 'str.', 'weg'])} "
                 f"{rng.randint(1, 99)}", f"{rng.randint(10000, 99999)} {rng.choice(['Berlin', 'Köln', 'Hamburg'])}"],
        phone=f"Tel. 0{rng.choice([30, 40, 221, 89])} {rng.randint(100000, 9999999)}",
        written_date=rng.choice([f"{day:%d.%m.%Y}", f"{day:%d.%m.%y}"]),
        date_label=rng.choice(["Datum:", ""]), currency="EUR", decimal_comma=True,
        tax_label="MwSt 19%", tax_rate=Decimal("0.19"),
        total_label=rng.choice(["SUMME", "Gesamtbetrag", "Zu zahlen"]),
    )


def _netherlands(rng: random.Random, day: date) -> dict:
    return dict(
        company=f"{rng.choice(['De Gouden', 'Van Dijk', 'Bakkerij Jansen', 'Het Hoekje'])} "
                f"{rng.choice(['B.V.', 'BV'])}",
        header=[],
        address=[f"{rng.choice(['Kalver', 'Dam', 'Prinsen', 'Linden'])}{rng.choice(['straat', 'laan', 'weg'])} "
                 f"{rng.randint(1, 200)}", f"{rng.randint(1000, 9999)} {rng.choice(['AB', 'KL', 'RT'])} "
                                           f"{rng.choice(['Amsterdam', 'Utrecht', 'Rotterdam'])}"],
        phone=f"Tel: 0{rng.choice([20, 30, 10])}-{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        written_date=rng.choice([f"{day:%d-%m-%Y}", f"{day:%Y-%m-%d}"]),
        date_label=rng.choice(["Datum:", ""]), currency="€", decimal_comma=True,
        tax_label="BTW 21%", tax_rate=Decimal("0.21"), total_label=rng.choice(["TOTAAL", "Te betalen"]),
    )


def _united_states(rng: random.Random, day: date) -> dict:
    return dict(
        company=f"{rng.choice(NAMES).title()} {rng.choice(TRADES).title()} {rng.choice(['Inc.', 'LLC', 'Corp.'])}",
        header=[],
        address=[f"{rng.randint(10, 9999)} {rng.choice(['Main', 'Oak', 'Maple', 'Market'])} "
                 f"{rng.choice(['St', 'Ave', 'Blvd'])}",
                 f"{rng.choice(['Springfield, IL 627', 'Austin, TX 787', 'Denver, CO 802'])}{rng.randint(10, 99)}"],
        phone=f"Tel: ({rng.choice([217, 512, 303])}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
        written_date=rng.choice([f"{day:%m/%d/%Y}", f"{MONTH_ABBREVIATIONS[day.month - 1]} {day.day}, {day.year}"]),
        date_label=rng.choice(["Date:", ""]), currency="$", decimal_comma=False,
        tax_label="SALES TAX 8.25%", tax_rate=Decimal("0.0825"), total_label=rng.choice(["TOTAL", "Amount Due"]),
    )


def _france(rng: random.Random, day: date) -> dict:
    return dict(
        company=f"{rng.choice(['Boulangerie', 'Librairie', 'Epicerie', 'Pharmacie'])} "
                f"{rng.choice(['Martin', 'Dupont', 'du Centre', 'Moreau'])} {rng.choice(['SARL', 'SAS', 'S.A.'])}",
        header=[],
        address=[f"{rng.randint(1, 99)} rue {rng.choice(['de la Paix', 'Victor Hugo', 'du Commerce'])}",
                 f"{rng.choice(['75002 Paris', '69001 Lyon', '13001 Marseille'])}"],
        phone=f"Tél: 0{rng.choice([1, 4])} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
              f"{rng.randint(10, 99)}",
        written_date=f"{day:%d/%m/%Y}", date_label=rng.choice(["Date:", "Le"]), currency="EUR", decimal_comma=True,
        tax_label="TVA 20%", tax_rate=Decimal("0.20"), total_label=rng.choice(["TOTAL TTC", "Net à payer"]),
    )


COUNTRIES = [_malaysia, _britain, _germany, _netherlands, _united_states, _france]


def make_receipt(rng: random.Random) -> Receipt:
    day = date(2016, 1, 1) + timedelta(days=rng.randint(0, 3000))
    items = [(rng.choice(ITEMS), rng.randint(1, 4), Decimal(rng.randint(50, 2999)) / 100)
             for _ in range(rng.randint(2, 7))]
    return Receipt(date=day, items=items, **rng.choice(COUNTRIES)(rng, day))


def receipt_lines(receipt: Receipt) -> list[tuple[str, bool]]:
    """The printed lines, each with whether it is centred."""
    def row(left: str, right: str) -> str:
        return left + " " * max(1, WIDTH_CHARS - len(left) - len(right)) + right

    def money(value: Decimal) -> str:
        return f"{receipt.currency} {_money(receipt, value)}"

    lines = [(receipt.company, True), *((line, True) for line in receipt.header),
             *((line, True) for line in receipt.address), (receipt.phone, True), ("-" * WIDTH_CHARS, False),
             (f"{receipt.date_label} {receipt.written_date}".strip() + f"   {receipt.date.day % 12 + 8:02d}:"
              f"{(receipt.date.toordinal() * 7) % 60:02d}", False), ("-" * WIDTH_CHARS, False)]
    for name, quantity, price in receipt.items:
        lines.append((row(name, _money(receipt, quantity * price)), False))
        if quantity > 1:
            lines.append((f"  {quantity} x {_money(receipt, price)}", False))
    paid = (receipt.total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
    lines += [("-" * WIDTH_CHARS, False), (row("SUBTOTAL", _money(receipt, receipt.subtotal)), False),
              (row(receipt.tax_label, _money(receipt, receipt.tax)), False),
              (row(receipt.total_label.upper(), money(receipt.total)), False),
              (row("CASH", money(paid)), False), (row("CHANGE", money(paid - receipt.total)), False),
              ("", False), ("THANK YOU, PLEASE COME AGAIN", True)]
    return lines


def render(receipt: Receipt) -> np.ndarray:
    """The receipt printed: grey ink on off-white paper, as a grayscale array."""
    font = ImageFont.truetype(str(FONT), FONT_SIZE)
    char_width = font.getlength("M")
    line_height = int(FONT_SIZE * LINE_SPACING)
    lines = receipt_lines(receipt)
    image = Image.new("L", (int(char_width * WIDTH_CHARS) + 2 * MARGIN, line_height * len(lines) + 2 * MARGIN),
                      PAPER)
    draw = ImageDraw.Draw(image)
    for index, (text, centred) in enumerate(lines):
        indent = (WIDTH_CHARS - len(text)) // 2 if centred else 0
        draw.text((MARGIN + indent * char_width, MARGIN + index * line_height), text, fill=INK, font=font)
    return np.asarray(image)


def scan(page: np.ndarray, seed: int, index: int) -> np.ndarray:
    """Turned, then (half the time) sensor noise, then the optics' blur over it, then (half the time) heavy JPEG."""
    noisy, compressed = (page_rng(seed, f"pick-{kind}", index).random() < 0.5 for kind in ("noise", "jpeg"))
    for kind in ["skew", *(["noise"] if noisy else []), "blur", *(["jpeg"] if compressed else [])]:
        page = DEGRADATIONS[kind](page, page_rng(seed, kind, index), DPI)
    return page


def generate_receipts(out_dir: Path, count: int, seed: int = 0) -> list[Path]:
    """Write receipt-NNNN.png (a scan) and receipt-NNNN.json (its ground truth) for `count` receipts; the same seed
    gives the same files. Returns the images."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        receipt = make_receipt(random.Random(seed * 1_000_003 + index))
        path = out_dir / f"receipt-{index:04d}.png"
        Image.fromarray(scan(render(receipt), seed, index)).save(path, dpi=(DPI, DPI))
        path.with_suffix(".json").write_text(json.dumps([receipt.truth()], ensure_ascii=False, indent=1),
                                             encoding="utf-8")
        paths.append(path)
    return paths
