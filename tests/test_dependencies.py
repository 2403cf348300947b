"""pyproject.toml and requirements*.txt name the same packages, so `pip install .[app]` gets what
`pip install -r requirements.txt` does (the app's attribution maps and exports included)."""

import ast
import importlib.metadata
import re
import sys

import tomllib

from tests.conftest import REPO


def _requirements(name: str) -> set[str]:
    lines = (line.strip() for line in (REPO / name).read_text().splitlines())
    return {line for line in lines if line and not line.startswith(("#", "-r"))}


def test_pyproject_and_requirements_list_the_same_packages():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(project["dependencies"]) | set(extras["app"]) == _requirements("requirements.txt")
    assert set(extras["dev"]) == _requirements("requirements-dev.txt")


def _names(requirements) -> set[str]:
    return {
        re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-") for requirement in requirements
    }


def test_every_package_the_library_and_the_app_import_is_in_pyproject():
    """Every third-party module imported in resnet_core/, ui/, app_pages/ and app.py (at the top or inside a
    function, as captum is) comes from a package that `pip install .[app]` installs."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = _names(project["dependencies"] + project["optional-dependencies"]["app"])
    sources = [REPO / "app.py", *(REPO / "resnet_core").rglob("*.py"), *(REPO / "ui").rglob("*.py")]
    sources += (REPO / "app_pages").glob("*.py")
    imported = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"resnet_core", "ui", "app_pages", "__future__"}
    distributions = importlib.metadata.packages_distributions()
    needed = {distributions[module][0].lower().replace("_", "-") for module in third_party}
    assert needed - declared == set()
    assert "captum" in needed  # "Where it looks" (torch.onnx.export uses onnx and onnxscript without an import here)
