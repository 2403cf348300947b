"""The library's folders form layers: a module imports from its own folder or from the layers below it,
so there is no import cycle, and the library never imports the app (README, "Module map")."""

import ast

from tests.conftest import REPO

# Lowest first. A folder may import the folders before it in this list, never those after it.
LAYERS = ("devices", "networks", "data", "training", "files", "digits", "inside", "depth_study", "cli")
TOP = ("__init__", "__main__")  # the package's front door and `python -m resnet_core` may import anything


def _runtime_imports(tree: ast.Module) -> set[str]:
    """Modules imported when the file runs (imports only for type checkers are left out)."""
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _layer(module_path) -> str:
    return module_path.relative_to(REPO / "resnet_core").parts[0].removesuffix(".py")


def test_every_library_module_imports_only_its_own_layer_and_those_below():
    upward = []
    for path in sorted((REPO / "resnet_core").rglob("*.py")):
        layer = _layer(path)
        assert layer in LAYERS + TOP, f"{path.relative_to(REPO)} is in no layer: add its folder to LAYERS"
        if layer in TOP:
            continue
        for module in _runtime_imports(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] in ("streamlit", "ui", "app_pages"):
                upward.append(f"{path.relative_to(REPO)} imports {module}: the library never imports the app")
            elif parts[0] == "resnet_core" and len(parts) > 1:
                if parts[1] in TOP or LAYERS.index(parts[1]) > LAYERS.index(layer):
                    upward.append(f"{path.relative_to(REPO)} ({layer}) imports {module}")
    assert upward == []


def test_the_app_pieces_never_import_the_pages():
    found = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in sorted((REPO / "ui").rglob("*.py"))
        for module in _runtime_imports(ast.parse(path.read_text()))
        if module.split(".")[0] == "app_pages"
    ]
    assert found == []
