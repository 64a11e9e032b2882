"""The docs that are generated must be current."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_generated_from_the_commands():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("gridkit locate", "gridkit route check", "gridkit map", "gridkit components import"):
        assert f"## `{command}`" in text


def test_docs_build_with_warnings_as_errors(tmp_path):
    """Sphinx (MyST + autodoc): a broken link, reference or docstring fails the build."""
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(tmp_path / "html")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    for name in ("unit_grid", "balanced_grid", "import_components", "Locator", "RoutingTable", "locate_dask"):
        assert name in api
