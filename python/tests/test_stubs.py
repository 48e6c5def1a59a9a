"""The type stubs (_polyhead.pyi) declare what the extension defines, and nothing else."""

import ast
import inspect
from pathlib import Path

import polyhead
from polyhead import _polyhead


def stub_classes():
    stub = Path(_polyhead.__file__).with_name("_polyhead.pyi")
    assert stub.exists(), "the stubs are installed next to the module"
    tree = ast.parse(stub.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return classes


def runtime_classes():
    classes = {}
    for name, cls in vars(_polyhead).items():
        if inspect.isclass(cls):
            classes[name] = {m for m in vars(cls) if not m.startswith("_") or m == "__init__"}
    return classes


def test_stubs_match_the_module():
    stubs, runtime = stub_classes(), runtime_classes()
    assert set(stubs) == set(runtime)
    for name, members in runtime.items():
        assert stubs[name] - {"__init__"} == members - {"__init__"}, name


def test_package_exports_everything():
    for name in polyhead.__all__:
        assert hasattr(polyhead, name), name
    assert (Path(polyhead.__file__).parent / "py.typed").exists()
