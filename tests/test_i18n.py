import re
from pathlib import Path

from core import i18n

ROOT = Path(__file__).resolve().parent.parent


def test_catalogs_have_the_same_keys():
    en, ja = i18n.catalog("en"), i18n.catalog("ja")
    assert set(en) == set(ja), set(en) ^ set(ja)
    assert all(v.strip() for v in [*en.values(), *ja.values()])


def test_placeholders_match_between_languages():
    en, ja = i18n.catalog("en"), i18n.catalog("ja")
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", ja[key])), key


def test_every_literal_key_used_by_the_app_exists():
    used = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no translated strings found: the pattern is wrong"
    assert used <= set(i18n.catalog("en")), used - set(i18n.catalog("en"))


def test_every_page_has_a_title_and_blurb():
    for slug, _ in i18n.available_pages(ROOT):
        for lang in i18n.LANGUAGES:
            assert f"page.{slug}.title" in i18n.catalog(lang) and f"page.{slug}.blurb" in i18n.catalog(lang)


def test_translator_formats_and_falls_back():
    t = i18n.translator("xx")
    assert t("denoise.indices_many", n=50).count("50") == 1
    assert t("no.such.key") == "[no.such.key]"
