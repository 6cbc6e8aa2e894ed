"""Packaging promises: one version, helpful ImportErrors, a framework-free core."""

from __future__ import annotations

import ast
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

import stackit_chutes_core

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_version_has_one_source() -> None:
    assert metadata.version("stackit-chutes") == stackit_chutes_core.__version__


@pytest.mark.parametrize(
    ("package", "blocked", "extra"),
    [
        ("langchain_stackit_chutes", "langchain_core", "stackit-chutes[langchain]"),
        ("llama_index_stackit_chutes", "llama_index.core", "stackit-chutes[llama-index]"),
    ],
)
def test_adapter_without_its_framework_names_the_extra(package: str, blocked: str, extra: str) -> None:
    # Setting a module to None in sys.modules makes importing it raise ImportError, as if absent.
    result = _run(f"import sys; sys.modules[{blocked!r}] = None\nimport {package}")
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert extra in result.stderr


def test_core_imports_no_framework_at_runtime() -> None:
    result = _run(
        "import sys, stackit_chutes_core\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('langchain_core', 'llama_index', 'langchain'))\n"
        "print(loaded)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_core_source_never_imports_a_framework() -> None:
    offenders = []
    for path in sorted((ROOT / "stackit_chutes_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            frameworks = ("langchain_core", "langchain", "llama_index")
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in frameworks]
    assert offenders == []


def test_all_three_packages_import_and_ship_py_typed() -> None:
    result = _run("import stackit_chutes_core, langchain_stackit_chutes, llama_index_stackit_chutes; print('ok')")
    assert result.returncode == 0, result.stderr
    for package in ("stackit_chutes_core", "langchain_stackit_chutes", "llama_index_stackit_chutes"):
        assert (ROOT / package / "py.typed").exists()


def test_sdist_and_wheel_ship_the_license(tmp_path: Path) -> None:
    # Built offline with the backend itself (no isolated build env to download), as a release would.
    code = (
        "import hatchling.build as b\n"
        f"print(b.build_sdist({str(tmp_path)!r}))\n"
        f"print(b.build_wheel({str(tmp_path)!r}))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    sdist_name, wheel_name = result.stdout.split()[-2:]
    with tarfile.open(tmp_path / sdist_name) as sdist:
        root = sdist_name.removesuffix(".tar.gz")
        license_file = sdist.extractfile(f"{root}/LICENSE")
        assert license_file is not None and license_file.read() == (ROOT / "LICENSE").read_bytes()
    with zipfile.ZipFile(tmp_path / wheel_name) as wheel:
        info = f"stackit_chutes-{stackit_chutes_core.__version__}.dist-info"
        assert wheel.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        fields = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
    assert fields["License-Expression"] == "MIT"
    assert "License :: OSI Approved :: MIT License" in fields.get_all("Classifier", [])
    urls = dict(url.split(", ", 1) for url in fields.get_all("Project-URL", []))
    assert set(urls) == {"Homepage", "Repository", "Issues", "Changelog"}
    assert urls["Changelog"].endswith("/CHANGELOG.md")
