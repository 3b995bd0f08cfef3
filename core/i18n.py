"""Every user-facing string, in English and Japanese. Catalogs live in core/locales/<lang>.json.

Also the catalogue of pages: app.py builds the navigation from it and the home page its cards, each
keeping only the pages whose file exists, so a page can land (or be deleted) without touching the others.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"
# English strings say "a {digit}", and a digit said aloud as a vowel takes "an": "an 8", "an 11", "an 18", "an 80".
_AN_NUMBER = re.compile(r"\b([Aa]) (?=(?:8|11|18)\b|8\d\b)")

# (slug, icon): pages/<slug>.py, titled by "page.<slug>.title" and described by "page.<slug>.blurb".
PAGES = (
    ("denoising", ":material/blur_off:"),
    ("architectures", ":material/account_tree:"),
    ("resnet", ":material/stacked_line_chart:"),
    ("latent_space", ":material/scatter_plot:"),
    ("clustering", ":material/bubble_chart:"),
    ("anomaly", ":material/report:"),
    ("your_digit", ":material/draw:"),
    ("training", ":material/model_training:"),
)


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    with open(LOCALES_DIR / f"{lang}.json", encoding="utf-8") as f:
        return json.load(f)


def translator(lang: str):
    """`t(key, **values)`: the string for `key` in `lang`, formatted with `values`."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    strings = catalog(lang)

    def t(key: str, **values) -> str:
        text = strings.get(key)
        if text is None:  # a missing key shows itself instead of breaking the page
            return f"[{key}]"
        if not values:
            return text
        text = text.format(**values)
        return _AN_NUMBER.sub(r"\1n ", text) if lang == "en" else text

    return t


def available_pages(root: Path) -> list[tuple[str, str]]:
    return [(slug, icon) for slug, icon in PAGES if (root / "pages" / f"{slug}.py").exists()]
