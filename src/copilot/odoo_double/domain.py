"""Odoo domain evaluation over in-memory records.

Prefix ``&``/``|``/``!`` with implicit AND between adjacent terms; operators and ``False`` semantics follow
ODOO.md §4 (O16 ``odoo/osv/expression.py``, O19 ``odoo/orm/domains.py``). The double evaluates in Python
rather than compiling to SQL: its tables are small and the semantics are easier to keep exact this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from copilot.odoo_double.errors import ServerValueError as ValidationError  # malformed domains: ValueError in Odoo
from copilot.odoo_double.errors import named

OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<>",
        "<",
        ">",
        "<=",
        ">=",
        "=?",
        "like",
        "not like",
        "ilike",
        "not ilike",
        "=like",
        "=ilike",
        "not =like",
        "not =ilike",
        "in",
        "not in",
        "child_of",
        "parent_of",
        "any",
        "not any",
    }
)
NEGATIVE = frozenset({"!=", "<>", "not like", "not ilike", "not in", "not =like", "not =ilike", "not any"})

# A node of the parsed tree: ("&", a, b) | ("|", a, b) | ("!", a) | ("term", path, op, value) | ("true",)
Node = tuple[Any, ...]


def parse(domain: Sequence[Any]) -> Node:
    """Parse a prefix domain into a tree, ANDing top-level items implicitly."""
    items = [_item(x) for x in domain]
    if not items:
        return ("true",)
    pos = 0

    def one() -> Node:
        nonlocal pos
        if pos >= len(items):
            raise ValidationError(f"Invalid domain: {list(domain)!r}")
        tok = items[pos]
        pos += 1
        if tok in ("&", "|"):
            return (tok, one(), one())
        if tok == "!":
            return ("!", one())
        return tok

    nodes = []
    while pos < len(items):
        nodes.append(one())
    node = nodes[0]
    for nxt in nodes[1:]:
        node = ("&", node, nxt)
    return node


def _item(x: Any) -> Any:
    if isinstance(x, str):
        if x not in ("&", "|", "!"):
            raise ValidationError(f"Invalid domain operator {x!r}")
        return x
    if isinstance(x, (list, tuple)) and len(x) == 3:
        path, op, value = x
        if path in (0, 1) and op == "=" and value in (0, 1):  # TRUE_LEAF / FALSE_LEAF
            return ("true",) if path == value else ("!", ("true",))
        op = str(op).lower()
        if op not in OPERATORS or not isinstance(path, str):
            raise ValidationError(f"Invalid leaf {list(x)!r}")
        return ("term", path, "!=" if op == "<>" else op, value)
    raise ValidationError(f"Invalid domain term {x!r}")


def check(domain: Any, major: int) -> None:
    """What Odoo refuses in a caller's domain before evaluating it (recorded: g3.err.domain_not_list, 17's
    g3.edge.upper_operator and g3.edge.in_scalar; 19 accepts both of the latter)."""
    if isinstance(domain, str):
        if major >= 19:
            raise named("builtins.TypeError", f"Domain() invalid argument type for domain: {domain!r}")
        raise named("builtins.AssertionError", "Domains to normalize must have a 'domain' form: a list or tuple")
    if major >= 19:
        return
    for term in domain or []:
        if not isinstance(term, (list, tuple, str)):  # 17 indexes it (recorded: 17 g6.jsonrpc.ids_on_model_method)
            raise named("builtins.TypeError", f"'{type(term).__name__}' object is not subscriptable")
        if isinstance(term, (list, tuple)) and len(term) == 3:
            op, value = term[1], term[2]
            if isinstance(op, str) and op != op.lower():
                raise ValidationError(f"Invalid leaf {tuple(term)!r}")
            if op in ("in", "not in") and not isinstance(value, (list, tuple)):
                raise ValidationError(f"Invalid domain term {tuple(term)!r}")


def like_regex(pattern: str, *, wrap: bool, ci: bool) -> re.Pattern[str]:
    """SQL LIKE to regex: ``%`` any run, ``_`` one char, a backslash escapes the next character (recorded:
    g3.product.code_eqlike, ``FURN\\_00%``); ``like`` wraps the value as ``%v%``."""
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    body = "".join(out)
    if wrap:
        body = f".*{body}.*"
    return re.compile(f"^{body}$", re.S | (re.I if ci else 0))


def compare(op: str, value: Any, arg: Any, *, ftype: str, falsy19: bool) -> bool:
    """One scalar comparison with Odoo's NULL rules; ``value`` None means NULL."""
    is_null = value is None or (ftype == "boolean" and value is False)
    if falsy19 and value is not None:
        if ftype in ("char", "text", "html") and value == "":
            is_null = True
        if ftype in ("integer", "float", "monetary") and value == 0:
            is_null = True
    if op == "=?":
        if arg is False or arg is None:
            return True
        op = "="
    if op in ("=", "!="):
        if arg is False or arg is None:
            hit = is_null
        elif ftype == "boolean":
            hit = bool(value) == bool(arg)
        else:
            hit = value == arg
        return hit if op == "=" else not hit
    if op in ("in", "not in"):
        vals = list(arg) if isinstance(arg, (list, tuple, set)) else [arg]
        hit = (is_null and (False in vals or None in vals)) or (value is not None and value in vals)
        return hit if op == "in" else not hit
    if op in ("like", "ilike", "not like", "not ilike", "=like", "=ilike", "not =like", "not =ilike"):
        pos = op.removeprefix("not ")
        if pos in ("like", "ilike") and (arg is False or arg is None or arg == ""):
            hit = True  # empty like matches everything, NULL included
        elif value is None or value is False:
            hit = False
        else:
            rx = like_regex(str(arg), wrap=pos in ("like", "ilike"), ci=pos in ("ilike", "=ilike"))
            hit = bool(rx.match(str(value)))
        return hit if not op.startswith("not ") else not hit
    if op in ("<", ">", "<=", ">="):
        if value is None or arg is False or arg is None:
            return False
        try:
            if op == "<":
                return bool(value < arg)
            if op == ">":
                return bool(value > arg)
            if op == "<=":
                return bool(value <= arg)
            return bool(value >= arg)
        except TypeError as exc:
            raise ValidationError(f"Cannot compare {value!r} {op} {arg!r}") from exc
    raise ValidationError(f"Unsupported operator {op!r}")


def evaluate(node: Node, rec: dict[str, Any], leaf: Callable[[dict[str, Any], str, str, Any], bool]) -> bool:
    """Evaluate a parsed domain on one record; ``leaf`` resolves a term (paths, relations, child_of)."""
    kind = node[0]
    if kind == "true":
        return True
    if kind == "&":
        return evaluate(node[1], rec, leaf) and evaluate(node[2], rec, leaf)
    if kind == "|":
        return evaluate(node[1], rec, leaf) or evaluate(node[2], rec, leaf)
    if kind == "!":
        return not evaluate(node[1], rec, leaf)
    return leaf(rec, node[1], node[2], node[3])
