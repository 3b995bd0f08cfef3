"""What the AppTest page tests share: open a page the way a person does (through app.py), read its pictures."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_page(slug: str, timeout: int = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout).run()
    at.switch_page(str(ROOT / "pages" / f"{slug}.py")).run()
    assert not at.exception, at.exception
    return at


def images(at) -> list[str]:
    """The media URLs of every image on the page, in order; a URL changes when the pixels do."""
    def walk(node):
        for child in (node.children.values() if isinstance(getattr(node, "children", None), dict) else ()):
            yield child
            yield from walk(child)
    return [e.proto.imgs[0].url for e in walk(at.main) if type(e).__name__ == "Image"]
