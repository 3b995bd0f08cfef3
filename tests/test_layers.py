"""The house's layers, held by import-linter (contracts in .importlinter at the repo root):
pages → ui → core, core never imports streamlit, core has no import cycles, pages are independent."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                             os.environ.get("PATH", "")]))
    assert exe, "lint-imports not found: pip install -r requirements-dev.txt (import-linter)"
    # --no-cache: judge the files as they are now, and leave no cache folder behind
    return subprocess.run([exe, "--no-cache", "--no-logo", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_import_contracts_are_kept():
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


def test_the_acyclic_contract_catches_the_old_cycle(tmp_path):
    """Put back the import that made core cyclic (core.pretrained.load reading the recipes from core.train)
    in a copy of the house: the contract must break and name that import."""
    for name in ("core", "ui", "pages"):  # the root packages .importlinter names
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    pretrained = tmp_path / "core" / "pretrained.py"
    source = pretrained.read_text(encoding="utf-8")
    assert "from core.recipes import RECIPES" in source
    pretrained.write_text(source.replace("from core.recipes import RECIPES", "from core.train import RECIPES"),
                          encoding="utf-8")
    run = _lint_imports(tmp_path, "--contract", "core-acyclic")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "core has no import cycles BROKEN" in run.stdout and ".pretrained -> .train" in run.stdout, run.stdout


def test_recipe_table_is_light_and_shared():
    """core.recipes and core.pretrained import neither TensorFlow nor Keras (the home page reads them);
    core.train re-exports the very same table."""
    code = ("import sys, core.recipes, core.pretrained; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    from core import recipes, train

    assert train.RECIPES is recipes.RECIPES and train.Recipe is recipes.Recipe
    assert train.ONE_CLASS_LATENT == recipes.ONE_CLASS_LATENT == 16
