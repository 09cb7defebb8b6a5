"""The rule expression language: a checked subset of Python expressions, compiled once.

Allowed: ``and or not``, comparisons (``== != < <= > >=``, ``in`` / ``not in`` a literal
list), arithmetic ``+ - * / // %`` on numbers only, number / string / bool literals,
names (event facts, features, ``score``) and registered functions. Everything else
(attribute access, subscripts, lambdas, comprehensions, ``**``, string arithmetic) is
refused at load, naming the rule. Regular expressions are compiled with RE2, which runs
in linear time, so no pattern can backtrack catastrophically.

Missing values: any name may be absent for an event (a login has no amount, a key never
seen has no age). A comparison involving an absent value is false, as in SQL.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from shopguard.errors import ConfigError

NUM, STR, BOOL = "num", "str", "bool"
LIST_NAMES = ("allow", "deny", "watch")
MAX_NODES = 400
MAX_DEPTH = 40  # nesting: Python's parser and compiler give out (MemoryError) far beyond it
MAX_TEXT = 4000  # characters of one expression, checked before parsing
MAX_LITERAL = 10**15
MAX_STRING = 1000

_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
_CMP = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ORDERING = {ast.Lt, ast.LtE, ast.Gt, ast.GtE}


@dataclass
class Compiled:
    """A compiled expression: ``fn(values)`` and the names it reads."""

    source: str
    fn: Callable[[Mapping[str, Any]], Any]
    names: frozenset[str]
    type: str
    code: str  # the expression alone: reads locals n_<name>, constants K[i], lists L
    consts: tuple[Any, ...]
    uses_lists: bool


@dataclass
class _Ctx:
    schema: Mapping[str, str]
    entity_kinds: frozenset[str]
    where: str
    names: dict[str, str] = field(default_factory=dict)  # name -> local variable
    consts: list[Any] = field(default_factory=list)
    uses_lists: bool = False

    def fail(self, message: str) -> ConfigError:
        return ConfigError(message, self.where)

    def local(self, name: str) -> str:
        if name not in self.schema:
            close = difflib.get_close_matches(name, list(self.schema), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(f"unknown name {name!r}{hint}")
        return self.names.setdefault(name, f"n_{name}")

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"


# The only globals generated code can reach.
SAFE_GLOBALS: dict[str, Any] = {"__builtins__": {}, "min": min, "max": max, "abs": abs}


def compile_expression(
    text: str,
    schema: Mapping[str, str],
    where: str,
    entity_kinds: frozenset[str] = frozenset(),
    want: str | None = BOOL,
) -> Compiled:
    """Check ``text`` against ``schema`` (name -> num/str/bool) and compile it."""
    if len(text) > MAX_TEXT:
        raise ConfigError(f"expression longer than {MAX_TEXT} characters", where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"syntax error in {text[:80]!r}: {exc.msg}", where) from None
    except (ValueError, MemoryError, RecursionError):  # NUL bytes; nesting the parser refuses
        raise ConfigError(f"expression nested deeper than {MAX_DEPTH} levels", where) from None
    nodes, depth = _size(tree)
    if nodes > MAX_NODES:
        raise ConfigError(f"expression longer than {MAX_NODES} nodes", where)
    if depth > MAX_DEPTH:
        raise ConfigError(f"expression nested deeper than {MAX_DEPTH} levels", where)
    ctx = _Ctx(schema, entity_kinds, where)
    code, typ, _ = _expr(tree.body, ctx)
    if want is not None and typ != want:
        raise ConfigError(f"expression must be {want}, got {typ}: {text!r}", where)
    prelude = "".join(f"    {var} = g({name!r})\n" for name, var in ctx.names.items())
    lists = "    L = v.get('_listed', ())\n" if ctx.uses_lists else ""
    source = f"def _expr(v):\n    g = v.get\n{prelude}{lists}    return {code}\n"
    namespace: dict[str, Any] = {"K": tuple(ctx.consts), **SAFE_GLOBALS}
    exec(compile(source, f"<{where}>", "exec"), namespace)  # generated from the checked tree
    return Compiled(
        source,
        namespace["_expr"],
        frozenset(ctx.names),
        typ,
        code,
        tuple(ctx.consts),
        ctx.uses_lists,
    )


def _size(tree: ast.AST) -> tuple[int, int]:
    """(nodes, depth) of a syntax tree, walked without recursion: the checks below recurse,
    and so does the compiler, so depth is bounded before either runs."""
    nodes, deepest = 0, 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return nodes, deepest


def _expr(node: ast.expr, ctx: _Ctx) -> tuple[str, str, frozenset[str]]:
    """Returns (python code, type, nullable locals in it)."""
    if isinstance(node, ast.Constant):
        return _constant(node.value, ctx)
    if isinstance(node, ast.Name):
        var = ctx.local(node.id)
        return var, ctx.schema[node.id], frozenset({var})
    if isinstance(node, ast.BoolOp):
        parts = [_expr(v, ctx) for v in node.values]
        for _, typ, _ in parts:
            if typ != BOOL:
                raise ctx.fail(f"`and`/`or` need true/false operands, got {typ}")
        op = " and " if isinstance(node.op, ast.And) else " or "
        return "(" + op.join(p[0] for p in parts) + ")", BOOL, frozenset()
    if isinstance(node, ast.UnaryOp):
        code, typ, nullable = _expr(node.operand, ctx)
        if isinstance(node.op, ast.Not):
            if typ != BOOL:
                raise ctx.fail(f"`not` needs a true/false operand, got {typ}")
            return f"(not {code})", BOOL, frozenset()
        if isinstance(node.op, ast.USub | ast.UAdd) and typ == NUM:
            return f"({'-' if isinstance(node.op, ast.USub) else '+'}{code})", NUM, nullable
        raise ctx.fail("unary operator allowed only as `not` or a number's sign")
    if isinstance(node, ast.BinOp):
        arith = _ARITH.get(type(node.op))
        if arith is None:
            raise ctx.fail(f"operator {type(node.op).__name__} is not allowed")
        op = arith
        left, lt, ln = _expr(node.left, ctx)
        right, rt, rn = _expr(node.right, ctx)
        if lt != NUM or rt != NUM:
            raise ctx.fail(f"arithmetic only on numbers, got {lt} {op} {rt}")
        return f"({left} {op} {right})", NUM, ln | rn
    if isinstance(node, ast.Compare):
        return _compare(node, ctx)
    if isinstance(node, ast.Call):
        return _call(node, ctx)
    raise ctx.fail(f"{type(node).__name__} is not allowed in rules")


def _constant(value: Any, ctx: _Ctx) -> tuple[str, str, frozenset[str]]:
    if isinstance(value, bool):
        return repr(value), BOOL, frozenset()
    if isinstance(value, int | float):
        if abs(value) > MAX_LITERAL:
            raise ctx.fail(f"number {value!r} is out of range")
        return repr(value), NUM, frozenset()
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ctx.fail(f"string literal longer than {MAX_STRING}")
        return ctx.const(value), STR, frozenset()
    raise ctx.fail(f"literal {value!r} is not allowed")


def _compare(node: ast.Compare, ctx: _Ctx) -> tuple[str, str, frozenset[str]]:
    left, lt, nullable = _expr(node.left, ctx)
    code = [left]
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        symbol = _CMP.get(type(op))
        if symbol is None:
            raise ctx.fail(f"comparison {type(op).__name__} is not allowed")
        if symbol in ("in", "not in"):
            if not isinstance(right_node, ast.List | ast.Tuple | ast.Set):
                raise ctx.fail("`in` needs a literal list on the right, e.g. x in ['a', 'b']")
            values = []
            for elt in right_node.elts:
                if not isinstance(elt, ast.Constant):
                    raise ctx.fail("`in` lists hold literals only")
                _, et, _ = _constant(elt.value, ctx)
                if et != lt:
                    raise ctx.fail(f"cannot test a {lt} for membership among {et} values")
                values.append(elt.value)
            code += [symbol, ctx.const(frozenset(values))]
            continue
        right, rt, rn = _expr(right_node, ctx)
        if lt != rt:
            raise ctx.fail(f"cannot compare {lt} with {rt}")
        if type(op) in _ORDERING and lt != NUM:
            raise ctx.fail(f"ordering comparisons need numbers, got {lt}")
        nullable |= rn
        code += [symbol, right]
        lt = rt
    guard = "".join(f"{var} is not None and " for var in sorted(nullable))
    return f"({guard}{' '.join(code)})", BOOL, frozenset()


def _call(node: ast.Call, ctx: _Ctx) -> tuple[str, str, frozenset[str]]:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise ctx.fail("only registered functions with positional arguments may be called")
    fname, args = node.func.id, node.args
    if fname == "listed":
        if len(args) != 2 or not all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
        ):
            raise ctx.fail("listed(list, kind) takes two string literals")
        list_name, kind = (a.value for a in args)  # type: ignore[attr-defined]
        if list_name not in LIST_NAMES:
            raise ctx.fail(f"unknown list {list_name!r}; one of {LIST_NAMES}")
        if kind not in ctx.entity_kinds:
            raise ctx.fail(f"unknown entity kind {kind!r} for listed()")
        ctx.uses_lists = True
        return f"({ctx.const((list_name, kind))} in L)", BOOL, frozenset()
    if fname in ("regex", "startswith", "endswith", "contains"):
        if len(args) != 2 or not (
            isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)
        ):
            raise ctx.fail(f"{fname}(text, 'literal') takes a string literal second")
        subject, st, nullable = _expr(args[0], ctx)
        if st != STR:
            raise ctx.fail(f"{fname}() needs a string, got {st}")
        literal = args[1].value
        if fname == "regex":
            try:
                pattern = re2.compile(literal)
            except re2.error as exc:
                raise ctx.fail(f"bad regular expression {literal!r}: {exc}") from None
            test = f"{ctx.const(pattern)}.search({subject}) is not None"
        elif fname == "contains":
            test = f"{ctx.const(literal)} in {subject}"
        else:
            test = f"{subject}.{fname}({ctx.const(literal)})"
        guard = "".join(f"{var} is not None and " for var in sorted(nullable))
        return f"({guard}{test})", BOOL, frozenset()
    if fname in ("min", "max", "abs"):
        if not args or (fname == "abs" and len(args) != 1) or len(args) > 8:
            raise ctx.fail(f"{fname}() takes {'one' if fname == 'abs' else '1 to 8'} numbers")
        parts = [_expr(a, ctx) for a in args]
        if any(p[1] != NUM for p in parts):
            raise ctx.fail(f"{fname}() takes numbers")
        nullable = frozenset().union(*(p[2] for p in parts))
        return f"{fname}({', '.join(p[0] for p in parts)})", NUM, nullable
    if fname == "coalesce":
        if len(args) != 2:
            raise ctx.fail("coalesce(value, default) takes two arguments")
        (value, vt, vn), (default, dt, dn) = _expr(args[0], ctx), _expr(args[1], ctx)
        if vt != dt:
            raise ctx.fail(f"coalesce() needs one type, got {vt} and {dt}")
        if len(vn) != 1 or value not in vn:
            raise ctx.fail("coalesce() takes a name first")
        return f"({default} if {value} is None else {value})", vt, dn
    raise ctx.fail(f"unknown function {fname!r}")
