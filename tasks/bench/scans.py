"""Small generated scans: one page each, a few lines of invoice-like text drawn on a slightly grey, noisy page."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PAGE = (1240, 1754)
"""A4 at 150 dpi."""


def make_scans(out_dir: Path, count: int, seed: int = 0) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    font = ImageFont.load_default(size=30)
    paths = []
    for i in range(count):
        page = Image.new("L", PAGE, 245)
        draw = ImageDraw.Draw(page)
        lines = [f"Invoice number DF-{2026}-{i:04d}", f"Customer {rng.choice(['Acme', 'Globex', 'Initech'])} Ltd",
                 *(f"Item {n + 1}: {rng.randint(1, 9)} x widget at EUR {rng.randint(5, 500)}.00"
                   for n in range(rng.randint(3, 8))),
                 f"Total due: EUR {rng.randint(100, 9000)}.{rng.randint(0, 99):02d}"]
        for n, text in enumerate(lines):
            draw.text((120, 150 + 60 * n), text, fill=20, font=font)
        pixels = np.asarray(page, dtype=np.int16) + np.random.default_rng(seed + i).normal(0, 6, page.size[::-1])
        path = out_dir / f"scan-{i:04d}.png"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, dpi=(150, 150))
        paths.append(path)
    return paths
