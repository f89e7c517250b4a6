"""Project code never touches a private name (a leading underscore) of the frameworks it runs
on: their private names change without notice between releases, so relying on one turns an
upgrade into a silent break.

The checker reads the project's source (migrations and tests aside) and flags:
- imports of a private module or name of those packages (``from redis.connection import _x``,
  ``import uvicorn._types``);
- attribute access to a private name the project does not define itself (``cache._servers``),
  or to any private name of an object imported from those packages
  (``connection._commit``), ``getattr``/``setattr`` with such a name included;
- ``super()._hook(...)`` that lands in one of those packages;
- a project class that defines a private name one of its bases from those packages defines
  (overriding a private hook).

``Model._meta`` is Django's documented model API and allowed; so are the documented private
names of the standard library's namedtuples, ``os._exit`` and ``sys._getframe``."""

import ast
import importlib
import inspect
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ["pagtracker", "charges", "payouts", "splits", "webhooks", "realtime", "bench"]
# Packages whose classes are imported to check overrides (bench holds scripts, not classes
# built on the frameworks: it is read, not imported).
IMPORTED_DIRS = ["pagtracker", "charges", "payouts", "splits", "webhooks", "realtime"]
SKIPPED_PARTS = {"migrations", "tests", "__pycache__"}
PACKAGES = {
    "django",
    "asgiref",
    "uvicorn",
    "daphne",
    "channels",
    "channels_redis",
    "redis",
    "django_tasks_db",
    "django_tasks",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "a2wsgi",
    "psycopg",
    "psycopg_pool",
}
ALLOWED = {"_meta", "_replace", "_asdict", "_fields", "_field_defaults", "_make", "_exit"}
ALLOWED |= {"_getframe"}


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name.strip("_") != ""


def from_packages(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PACKAGES  # type: ignore[union-attr]


def project_files(root: Path, dirs: Iterable[str]) -> Iterator[Path]:
    for top in dirs:
        for path in sorted((root / top).rglob("*.py")):
            if not SKIPPED_PARTS & set(path.relative_to(root).parts):
                yield path


@dataclass
class Violation:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Source:
    path: Path
    module: str
    tree: ast.Module
    # Names bound by imports from the packages, e.g. ``connection`` of ``from django.db
    # import connection``: any private attribute of them is theirs.
    package_names: set[str] = field(default_factory=set)


def parse(path: Path, root: Path) -> Source:
    relative = path.relative_to(root)
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return Source(relative, ".".join(parts), ast.parse(path.read_text(), str(path)))


def defined_names(sources: Iterable[Source]) -> set[str]:
    """Every private name the project defines: functions, classes, variables, arguments,
    import aliases and attributes it sets on ``self``/``cls`` or on a module of its own."""
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(source.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                    names.add(node.attr)
    return {name for name in names if is_private(name)}


def import_violations(source: Source) -> Iterator[Violation]:
    for node in ast.walk(source.tree):
        where = f"{source.path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if from_packages(alias.name):
                    if any(is_private(part) for part in alias.name.split(".")):
                        yield Violation(where, f"import {alias.name}")
                    else:
                        source.package_names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and from_packages(node.module):
            module = node.module or ""
            if any(is_private(part) for part in module.split(".")):
                yield Violation(where, f"from {module} import ...")
                continue
            for alias in node.names:
                if is_private(alias.name):
                    yield Violation(where, f"from {module} import {alias.name}")
                else:
                    source.package_names.add(alias.asname or alias.name)


def accessed_private_names(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.expr, str]]:
    """(node, object, name) for ``obj._name`` and ``getattr/setattr/hasattr(obj, "_name")``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            yield node, node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
        ):
            yield node, node.args[0], node.args[1].value


def is_super_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def enclosing_classes(tree: ast.Module) -> dict[ast.AST, list[str] | None]:
    """Each node's innermost enclosing class as a qualified name (``[]`` at module level,
    ``None`` inside a function, where a class cannot be imported)."""
    chains: dict[ast.AST, list[str] | None] = {}

    def visit(node: ast.AST, chain: list[str] | None) -> None:
        for child in ast.iter_child_nodes(node):
            chains[child] = chain
            if isinstance(child, ast.ClassDef):
                visit(child, None if chain is None else [*chain, child.name])
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                # A method's super() is its class's; any other function hides its classes.
                visit(child, chain if isinstance(node, ast.ClassDef) else None)
            else:
                visit(child, chain)

    visit(tree, [])
    return chains


def runtime_class(module: str, qualname: list[str] | None) -> type | None:
    if not qualname:
        return None
    try:
        obj: object = importlib.import_module(module)
    except ImportError:
        return None
    for part in qualname:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if inspect.isclass(obj) else None


def owner_in_packages(cls: type, name: str, *, skip_self: bool) -> type | None:
    """The class of ``cls``'s MRO (after ``cls`` when ``skip_self``) that defines ``name``, if
    it comes from one of the packages."""
    for base in cls.__mro__[1 if skip_self else 0 :]:
        if name in vars(base):
            return base if from_packages(base.__module__) else None
    return None


def access_violations(
    source: Source, project_names: set[str], *, runtime: bool
) -> Iterator[Violation]:
    chains = enclosing_classes(source.tree)
    for node, obj, name in accessed_private_names(source.tree):
        if name in ALLOWED:
            continue
        where = f"{source.path}:{getattr(node, 'lineno', 0)}"
        if is_super_call(obj):
            cls = runtime_class(source.module, chains.get(node)) if runtime else None
            if cls is None:
                if name not in project_names:
                    yield Violation(where, f"super().{name}")
            elif (owner := owner_in_packages(cls, name, skip_self=True)) is not None:
                yield Violation(where, f"super().{name} of {owner.__module__}.{owner.__name__}")
        elif isinstance(obj, ast.Name) and obj.id in source.package_names:
            yield Violation(where, f"{obj.id}.{name} ({obj.id} comes from a framework)")
        elif name not in project_names:
            yield Violation(where, f"{ast.unparse(obj)}.{name}")


def override_violations(source: Source) -> Iterator[Violation]:
    """Private names a project class defines in its body that a framework base defines."""
    chains = enclosing_classes(source.tree)
    for node in ast.walk(source.tree):
        chain = chains.get(node)
        if not isinstance(node, ast.ClassDef) or chain is None:
            continue
        cls = runtime_class(source.module, [*chain, node.name])
        if cls is None:
            continue
        for statement in node.body:
            names: list[str] = []
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(statement.name)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                names += [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                if not is_private(name) or name in ALLOWED:
                    continue
                owner = owner_in_packages(cls, name, skip_self=True)
                if owner is not None:
                    yield Violation(
                        f"{source.path}:{statement.lineno}",
                        f"{cls.__name__}.{name} overrides {owner.__module__}.{owner.__name__}",
                    )


def private_name_violations(
    root: Path, dirs: list[str], *, imported: list[str], extra_defined: set[str] = frozenset()
) -> list[Violation]:
    sources = [parse(path, root) for path in project_files(root, dirs)]
    project_names = defined_names(sources) | set(extra_defined)
    violations: list[Violation] = []
    for source in sources:
        violations += import_violations(source)
    for source in sources:
        runtime = source.module.split(".")[0] in imported
        violations += access_violations(source, project_names, runtime=runtime)
        if runtime:
            violations += override_violations(source)
    return violations


def test_project_code_touches_no_private_name_of_its_frameworks():
    violations = private_name_violations(ROOT, PROJECT_DIRS, imported=IMPORTED_DIRS)
    assert not violations, "\n".join(str(v) for v in violations)


# -- the checker itself: each kind of violation is caught ---------------------------------------

SNIPPET = """
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.backends.sqlite3 import base
from django.utils._os import safe_join
from redis.connection import _HiredisParser
import uvicorn._types


class Wrapper(base.DatabaseWrapper):
    def _commit(self):
        return super()._commit()

    def commit_quietly(self):
        return super()._rollback()


class SharedCache(RedisCache):
    _cache = None


class Own:
    def _helper(self):
        return 1


class OwnChild(Own):
    def _helper(self):
        return super()._helper()


def servers():
    return cache._servers, getattr(cache, "_options"), connection._helper()


def model_options(model):
    return model._meta.label
"""


def test_the_checker_flags_every_kind_of_violation(tmp_path, monkeypatch):
    package = tmp_path / "privatesample"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "code.py").write_text(textwrap.dedent(SNIPPET))
    (package / "migrations").mkdir()
    (package / "migrations" / "__init__.py").write_text("x = connection._private_in_migration\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [
        v.what
        for v in private_name_violations(tmp_path, ["privatesample"], imported=["privatesample"])
    ]
    sys.modules.pop("privatesample.code", None)
    expected = [
        "from django.utils._os import ...",
        "from redis.connection import _HiredisParser",
        "import uvicorn._types",
        "super()._commit of django.db.backends.base.base.BaseDatabaseWrapper",
        "super()._rollback of django.db.backends.base.base.BaseDatabaseWrapper",
        "cache._servers (cache comes from a framework)",
        "cache._options (cache comes from a framework)",
        "connection._helper (connection comes from a framework)",
        "Wrapper._commit overrides django.db.backends.base.base.BaseDatabaseWrapper",
        "SharedCache._cache overrides django.core.cache.backends.redis.RedisCache",
    ]
    assert sorted(found) == sorted(expected)


def test_private_names_the_project_does_not_define_are_flagged_on_any_object(tmp_path):
    (tmp_path / "loose.py").write_text("def f(request):\n    return request._request\n")
    found = [v.what for v in private_name_violations(tmp_path, ["."], imported=[])]
    assert found == ["request._request"]
