import ast
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


def test_an_8_in_english_and_no_article_added_in_japanese():
    en, ja = i18n.translator("en"), i18n.translator("ja")
    assert en("pick.named", index=7, label=9) == "#7 · a 9"
    assert en("pick.named", index=61, label=8) == "#61 · an 8"  # not "a 8"
    assert en("latent.nearest", index=3065, label=8).endswith("#3065, an 8.")
    assert "as an 8," in en("digit.verdict.unusual", digit=8, score=1, share="5%", n=974)
    assert en("pick.named", index=8, label=1) == "#8 · a 1"  # the index is not a digit said after "a"
    assert ja("pick.named", index=61, label=8) == i18n.catalog("ja")["pick.named"].format(index=61, label=8)


def _keyed_choices_with_labels(path):
    """Keys of widgets in `path` that pass both key= and format_func=, i.e. translated choices."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            kw = {k.arg: k.value for k in node.keywords}
            if "format_func" in kw and isinstance(kw.get("key"), ast.Constant):
                keys.add(kw["key"].value)
    return keys


def test_every_translated_choice_is_relabelled_on_a_language_switch():
    """app.py writes these values back when the language changes, or the browser would show them unselected."""
    app = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    listed = next(ast.literal_eval(n.value) for n in ast.walk(app)
                  if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "TRANSLATED_CHOICES")
    found = set().union(*(_keyed_choices_with_labels(p) for p in sorted((ROOT / "pages").glob("*.py"))))
    assert {"noise_kind", "models", "digit_source"} <= found  # the scan itself sees the pages' widgets
    assert found == set(listed)
