"""The package's layers, read from the source with `ast`: every `from tanet... import`
(those inside functions too) goes down the order below, never up and never across a cycle,
and no module imports another's private names. Also: rules written once, not retyped."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tanet"

# Lowest first. A module may import from its own layer and the layers below it only.
# A module named here is placed on its own; any other is placed by its sub-package.
LAYERS = [
    ("tanet", "tanet.errors", "tanet.dates", "tanet.text"),  # words, dates and the one error type
    ("tanet.store",),  # the file: opening, migrations, settings, private files, backups
    ("tanet.output.render", "tanet.output.table", "tanet.output.diagnostics"),  # the terminal and the log; no domain
    ("tanet.sheets",),  # reading CSV and spreadsheets of any origin
    ("tanet.register",),  # members, availability, resources, outreach
    ("tanet.meetings",),  # meetings, agenda, attendance, teams, and their calendars
    ("tanet.mail",),  # composing, writing, sending and reading e-mail
    ("tanet.privacy",),  # forgetting a member reaches the register, the outbox, replies and feedback
    ("tanet.summary",),  # the figures and their documents, the handover pack
    ("tanet.demo",),  # a fictional network built through all of the above
    ("tanet.cli", "tanet.__main__"),  # the command line: parse, call the core, print
    ("tanet.output.docs",),  # the command reference, generated from the command line itself
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest name there that is `module` or contains it."""
    best = None
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best[1])):
                best = (index, name)
    assert best is not None and (best[1] != "tanet" or module.count(".") <= 1), f"{module} is in no layer"
    return best[0]


def imports(path: Path):
    """(line, imported module, name) for every `from tanet...` import in the file, at any depth;
    the name is None where it is itself the module (`from tanet.mail import outbox`)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tanet":
            for alias in node.names:
                as_module = f"{node.module}.{alias.name}"
                is_module = (ROOT.parent / as_module.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT.parent / as_module.replace(".", "/")).is_dir()
                yield node.lineno, (as_module if is_module else node.module), None if is_module else alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tanet":
                    yield node.lineno, alias.name, None


def sources():
    return sorted(ROOT.rglob("*.py"))


def private_uses(path: Path):
    """(line, module, name) for each `module._name` where `module` is a tanet module imported
    by name (`from tanet.store import db` ... `db._name`)."""
    tree = ast.parse(path.read_text(), str(path))
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tanet":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if (ROOT.parent / full.replace(".", "/")).with_suffix(".py").exists():
                    modules[alias.asname or alias.name] = full
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield node.lineno, modules[node.value.id], node.attr


def test_layers():
    upward, private = [], []
    for path in sources():
        here = module_name(path)
        for line, target, name in imports(path):
            if layer_of(target) > layer_of(here):
                upward.append(f"{here}:{line} imports {target} (layer {layer_of(target)} above {layer_of(here)})")
            if name and name.startswith("_") and not name.startswith("__"):
                private.append(f"{here}:{line} imports the private {target}.{name}")
        for line, target, name in private_uses(path):
            if target != here:
                private.append(f"{here}:{line} uses the private {target}.{name}")
    assert upward == []
    assert private == []


def test_the_layers_name_every_module_and_every_sub_package():
    packages = {module_name(p) for p in ROOT.glob("*/__init__.py")}
    named = {name for names in LAYERS for name in names}
    assert packages <= named | {n.rsplit(".", 1)[0] for n in named}
    for path in sources():
        layer_of(module_name(path))


def test_the_layer_test_sees_imports_inside_functions(tmp_path):
    # What test_layers relies on: an import inside a function counts like one at the top.
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from tanet.mail import outbox\n    from tanet.store.db import _private\n")
    assert list(imports(source)) == [(2, "tanet.mail.outbox", None), (3, "tanet.store.db", "_private")]
    source.write_text("from tanet.store import db\n\n\ndef f(path):\n    return db._whose(path)\n")
    assert list(private_uses(source)) == [(5, "tanet.store.db", "_whose")]
    assert layer_of("tanet.mail.outbox") > layer_of("tanet.register.members")
    assert layer_of("tanet.output.docs") > layer_of("tanet.cli.report") > layer_of("tanet.output.render")


def test_the_calendar_kinds_are_written_once():
    """The kinds of message that carry a calendar are named in tanet.mail.outbox only; SQL
    elsewhere asks outbox.kind_in for them instead of retyping the list."""
    kinds = ("invitation", "update", "cancellation")
    retyped = []
    for path in sources():
        if module_name(path) == "tanet.mail.outbox":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                quoted = set(re.findall(r"'(\w+)'", node.value)) & set(kinds)
                if len(quoted) >= 2:
                    retyped.append(f"{module_name(path)}:{node.lineno}")
    assert retyped == []


def test_no_import_cycle():
    """No module reaches itself through others' imports, at any depth of a function."""
    modules = {module_name(p) for p in sources()}
    graph = {module_name(p): {t for _, t, _ in imports(p) if t in modules and t != module_name(p)} for p in sources()}
    cycles = []
    for start in sorted(graph):
        seen, stack = set(), [(start, [start])]
        while stack:
            here, path = stack.pop()
            for nxt in sorted(graph[here]):
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen and nxt > start:  # each cycle once, from its smallest name
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert cycles == []
