"""The layers match the folders: the engine imports no face and no harness; faces and the harness use only
the engine's declared API (what `index/__init__.py` exports)."""

from __future__ import annotations

import ast
from pathlib import Path

import index

ROOT = Path(__file__).resolve().parent.parent
FACES = ("bot", "cli", "bench")


def _imports(path: Path) -> list[str]:
    """Every module a file imports (absolute names; relative ones resolved against its package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, node.module] if node.module else base))
            else:
                found.append(node.module or "")
                found += [f"{node.module}.{alias.name}" for alias in node.names if node.module == "index"]
    return found


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_engine_imports_no_face_no_harness_and_not_discord():
    for path in _files("index"):
        bad = [m for m in _imports(path) if m.split(".")[0] in (*FACES, "discord", "tests")]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_faces_and_the_harness_use_only_the_engines_declared_api():
    exported = set(index.__all__)
    for folder in FACES:
        for path in _files(folder):
            if path.parent.name == "studies":  # a study measures its engine part from inside (bench/studies/)
                continue
            for module in _imports(path):
                if module == "index" or not module.startswith("index"):
                    continue
                name = module.removeprefix("index.")
                assert module.count(".") == 1 and name in exported, (
                    f"{path.relative_to(ROOT)} reaches into the engine: {module}"
                )


def test_the_checker_sees_a_reach_into_the_engine(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.test_boundaries.ROOT", tmp_path)
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "x.py").write_text("from index.catalog import Catalog\nfrom index import Engine\n")
    assert _imports(tmp_path / "bot" / "x.py") == ["index.catalog", "index", "index.Engine"]
