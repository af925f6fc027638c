"""An exercise file, made from the package's live source with the bodies of its units removed.

``blanked(module, units, drop)`` reads the source of ``module`` (``inspect``)
and returns Python text holding, in the module's order:

* each function among ``units`` (``"toposort"``): its decorators, signature and
  docstring as they are, then ``raise NotImplementedError``;
* each class one of whose methods is a unit (``"Sigmoid.backward"``): the whole
  class as it is, but with those methods blanked as above and the methods named
  in ``drop`` (``"jvp"``) left out;
* before them, the imports that code reads and the removed bodies read, made
  absolute (``from minigrad.graph import Op``), and the module's own names they
  read, imported from it (``from minigrad.ops.reduction import _unreduce``).

So an exercise is the real code with its body removed, and cannot drift from
it: change the package, and the next ``learn start`` writes the change.
"""

import ast
import importlib
import inspect
from importlib.util import resolve_name

BLANK = "raise NotImplementedError"


def blanked(module_name, units, drop=()):
    """The text of an exercise: ``module_name``'s ``units`` with their bodies removed."""
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    tree = ast.parse(source)
    lines = source.splitlines()
    wanted = _by_top_level_name(units)
    pieces, removed = [], []
    for node in tree.body:
        if getattr(node, "name", None) in wanted:
            text, functions = _piece(node, lines, wanted[node.name], drop)
            pieces.append(text)
            removed += functions
    missing = set(wanted) - {n.name for n in tree.body if hasattr(n, "name")}
    if missing:
        raise LookupError(f"{module_name} has no {', '.join(sorted(missing))}")
    code = "\n\n\n".join(pieces)
    imports = _imports(tree, module.__package__, module_name, code, removed, set(wanted))
    return ("\n".join(imports) + "\n\n\n" if imports else "") + code + "\n"


def _by_top_level_name(units):
    """{top-level name: the method names blanked in it (empty for a function)}."""
    wanted = {}
    for unit in units:
        top, _, method = unit.partition(".")
        wanted.setdefault(top, set())
        if method:
            wanted[top].add(method)
    return wanted


def _piece(node, lines, methods, drop):
    """The text of one top-level function or class, blanked; and the functions blanked in it."""
    if isinstance(node, ast.ClassDef):
        return _blank_class(node, lines, methods, drop)
    start = _start(node)
    kept, function = _blank_function(node, lines, start)
    return "\n".join(kept), [function]


def _start(node):
    """The first line (0-based) of a definition, its decorators included."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1


def _blank_function(node, lines, start):
    """The lines of a function from ``start`` to its docstring, then the blank; and the function."""
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    has_doc = has_doc and isinstance(first.value.value, str)
    indent = " " * first.col_offset
    end = first.end_lineno if has_doc else first.lineno - 1
    return [*lines[start:end], indent + BLANK], node


def _blank_class(node, lines, methods, drop):
    """A class's lines with ``methods`` blanked and ``drop`` left out; and the methods blanked."""
    out = lines[_start(node) : node.end_lineno]
    offset = _start(node)
    removed = []
    for item in reversed(node.body):
        if not isinstance(item, ast.FunctionDef):
            continue
        start, end = _start(item) - offset, item.end_lineno - offset
        if item.name in drop:
            blank_before = start > 0 and not out[start - 1].strip()
            del out[start - blank_before : end]
        elif item.name in methods:
            kept, function = _blank_function(item, lines, _start(item))
            out[start:end] = kept
            removed.append(function)
    unknown = methods - {i.name for i in node.body if isinstance(i, ast.FunctionDef)}
    if unknown:
        raise LookupError(f"{node.name} has no method {', '.join(sorted(unknown))}")
    return "\n".join(out), removed


# ---- imports -------------------------------------------------------------------------------------


def _imports(tree, package, module_name, code, removed, defined):
    """The import lines for the names the blanked ``code`` and the ``removed`` bodies read."""
    needed = _free_names(ast.parse(code).body) | _free_names(removed)
    needed -= defined
    imported = _imported_names(tree, package)
    plain, froms = _import_statements(needed, imported)
    lines = _import_block(plain, froms)
    own = sorted(needed & _module_level_names(tree) - set(imported))
    if own:
        lines += [
            "",
            "# the real code's own helpers, from its module:",
            _from_line(module_name, own),
        ]
    return [line for i, line in enumerate(lines) if line or i > 0]


def _import_statements(needed, imported):
    """How the module imports the ``needed`` names it imports: its ``import x`` lines, and
    {module: the names to import from it} for its ``from module import`` ones."""
    plain, froms = [], {}
    for name in sorted(needed):
        if name in imported:
            kind, where, original = imported[name]
            if kind == "import":
                plain.append(f"import {where}" + (f" as {name}" if name != where else ""))
            else:
                froms.setdefault(where, []).append(_alias(original, name))
    return plain, froms


def _import_block(plain, froms):
    """The import lines in order: other packages' ``import x`` (then a blank line), the
    ``from`` lines, and last ``import minigrad...``."""
    outside = [line for line in plain if not line.startswith("import minigrad")]
    lines = sorted(outside) + [""] if outside else []
    lines += [_from_line(m, n) for m, n in sorted(froms.items())]
    lines += [line for line in plain if line.startswith("import minigrad")]
    return lines


def _from_line(module, names):
    """``from module import names``, wrapped in parentheses when it is long."""
    line = f"from {module} import {', '.join(sorted(names))}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in sorted(names)) + ")"


def _alias(original, name):
    return original if original == name else f"{original} as {name}"


def _imported_names(tree, package):
    """{name bound at module level by an import: (kind, absolute module, imported name)}."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.partition(".")[0]
                found[bound] = ("import", a.name if a.asname else bound, a.name)
        elif isinstance(node, ast.ImportFrom):
            where = resolve_name("." * node.level + (node.module or ""), package)
            for a in node.names:
                found[a.asname or a.name] = ("from", where, a.name)
    return found


def _module_level_names(tree):
    """The names a module defines at its top level (functions, classes, assignments)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _free_names(nodes):
    """The names ``nodes`` (statements, functions, classes) read and do not bind themselves."""
    free = set()
    for node in nodes:
        functions = [n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
        free |= _read(node) - set().union(*map(_bound, functions))
    return free


def _read(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound(func):
    """The names a function (or lambda) binds: its arguments and what it assigns."""
    args = func.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    stored = {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    return {a.arg for a in every if a is not None} | stored
