"""Every ```python block of README.md and docs/*.md runs, and the API reference lists every name.

The blocks of one file run in order in one namespace (a page builds on its earlier blocks), in a
scratch working directory. A block that cannot run here (network, large data) is skipped only when
the line just before its fence is ``<!-- skip-snippet: reason -->``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!--\s*skip-snippet:\s*(\S.*?)\s*-->\s*$")


def snippets(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, source, skip reason or None) of each python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        blocks.append((line, match.group(1), skip.group(1) if skip else None))
    return blocks


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize(
    "path",
    [path for path in markdown_files() if snippets(path)],  # pages with python blocks
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_markdown_snippets_run(path, tmp_path, monkeypatch):
    blocks = snippets(path)
    source = path.read_text(encoding="utf-8")
    if "import dask" in source:
        pytest.importorskip("dask.distributed")
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"snippets_of_{path.stem}"}
    for line, code, skip in blocks:
        if skip is not None:
            continue
        try:
            exec(compile(code, f"{path}:{line}", "exec"), namespace)
        except Exception as error:
            message = f"the python block at {path.name}:{line} failed: {error!r}"
            raise AssertionError(message) from error


def test_skip_markers_give_a_reason():
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        for marker in re.findall(r"<!--\s*skip-snippet\b[^>]*-->", text):
            assert SKIP.search(marker), f"{path.name}: {marker} needs a reason after the colon"


def autosummary_entries(rst: str) -> set[str]:
    """Names listed in the autosummary directives of an rST file."""
    names = set()
    for block in re.findall(r"\.\. autosummary::\n((?:[ \t]+.*\n|\n)+)", rst + "\n"):
        for raw in block.splitlines():
            entry = raw.strip()
            if entry and not entry.startswith(":"):
                names.add(entry.lstrip("~"))
    return names


def test_api_reference_lists_every_public_name():
    advmetric = importlib.import_module("advmetric")
    top = autosummary_entries((DOCS / "api.rst").read_text(encoding="utf-8"))
    modules = {"aml", "reference"}  # documented by their own module pages
    missing = [name for name in advmetric.__all__ if name not in top and name not in modules]
    assert not missing, f"docs/api.rst lacks autosummary entries for {missing}"
    for module in ["aml", "reference", "dask"]:
        page = DOCS / "api" / f"advmetric.{module}.rst"
        listed = autosummary_entries(page.read_text(encoding="utf-8"))
        mod = importlib.import_module(f"advmetric.{module}")
        missing = sorted(set(mod.__all__) - listed)
        assert not missing, f"{page.relative_to(ROOT)} lacks autosummary entries for {missing}"
    for module in ["aml", "reference", "dask", "model_selection", "statistics"]:
        assert (DOCS / "api" / f"advmetric.{module}.rst").exists()
