"""The template language of an issue body, and the limits that keep its cost bounded.

An issue body may show merge fields (``{{ subscriber.name }}``) and values of the issue and the
newsletter (``{{ issue.title }}``, ``{{ newsletter.name }}``), choose text with ``{% if %}``,
``{% elif %}``, ``{% else %}`` and ``a if b else c``, compare values, and pass them through a
few filters that never make a value more than a few times longer. Everything else Jinja offers
(loops, ``{% set %}``, macros, includes, function calls, arithmetic, ``~``) is refused on the
parsed template, before any of it runs. With no loops and no way to build a value larger than
the file or its front matter, a body's work is bounded by its size; the nesting and the number
of expressions are bounded so that parsing and compiling are too, and the output is cut off at
``MAX_RENDERED_CHARS`` as the last line of defence.

The layouts in ``templates/email/`` belong to the operator and are rendered by the full
environment of ``mailer.render.templates``; only bodies, which editors write, come here.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from functools import lru_cache
from typing import Any, cast

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from mailer.render.merge_syntax import rewrite_merge_fields
from mailer.render.templates import template_frame_line

NAMES = ("subscriber", "issue", "newsletter")
FILTERS = frozenset(
    {"capitalize", "count", "d", "default", "first", "last", "length", "lower", "title", "trim"}
    | {"truncate", "upper", "wordcount"}
)
TESTS = frozenset(
    {"defined", "undefined", "none", "true", "false", "boolean", "string", "number", "integer"}
    | {"eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan"}
    | {">", "ge", ">=", "in", "lower", "upper", "sameas", "odd", "even"}
)
MAX_NESTING = 20
"""Blocks, brackets and operators inside each other, as the lexer sees them: Jinja's parser
recurses once per level, so this keeps it far from Python's recursion limit."""
MAX_TEMPLATE_DEPTH = 2 * MAX_NESTING
"""Depth of the parsed template (``a|f|g`` and ``a and b and c`` nest without brackets); the
compiler recurses once per level."""
MAX_TOKENS = 20_000
MAX_NODES = 5_000
"""Far more tags and expressions than any issue has; they bound the time to parse and compile."""
MAX_RENDERED_CHARS = 256 * 1024
MAX_NUMBER_DIGITS = 100

_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.For: "for",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.FilterBlock: "filter",
    nodes.With: "with",
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
    nodes.Extends: "extends",
    nodes.Block: "block",
    nodes.ExprStmt: "do",
    nodes.Continue: "continue",
    nodes.Break: "break",
    nodes.ScopedEvalContextModifier: "autoescape",
}
_EXPRESSIONS: dict[type[nodes.Node], str] = {
    nodes.Call: "calling a function or method",
    nodes.Slice: "slicing",
    nodes.Dict: "a {...} dictionary",
    nodes.Concat: "the operator '~'",
}
_ALLOWED = "a body may use merge fields, issue and newsletter values, {% if %} and filters"
_UNARY = {("operator", "-"), ("operator", "+"), ("name", "not")}
_OPENING = {"(", "[", "{"}
_CLOSING = {")", "]", "}"}
_BLOCK_TAGS = {"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "trans"}


class BodyTemplateError(Exception):
    """What is wrong with a body template, at a line of the body (1-based)."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = max(line or 1, 1)
        self.message = " ".join(message.split()) or "the template cannot be rendered"
        super().__init__(self.message)


class BodyEnvironment(SandboxedEnvironment):
    """A sandbox where attributes are data only: no methods, and only a model's own fields."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if callable(value):
            return False
        if isinstance(obj, BaseModel):
            return attr in type(obj).model_fields
        return bool(super().is_safe_attribute(obj, attr, value))

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        return self.undefined(
            f"{attribute!r} of {type(obj).__name__!r} is not a value an issue body can show",
            obj=obj,
            name=attribute,
        )


def _environment() -> BodyEnvironment:
    # No escaping here: the Markdown renderer escapes the text afterwards.
    env = BodyEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()
    return env


_ENV = _environment()


def _check_tokens(source: str) -> None:
    """Bound the parse before it starts. Jinja's parser recurses once for each block inside a
    block, bracket inside a bracket, ``not`` or ``-`` before another, and ``else`` of an
    ``a if b else c`` inside another: together they may nest ``MAX_NESTING`` deep."""
    count = blocks = brackets = unary_run = conditionals = 0
    reading_tag_name = False
    for line, kind, value in _ENV.lex(source):
        if kind in ("data", "whitespace") or kind.startswith(("comment", "raw")):
            continue
        count += 1
        if count > MAX_TOKENS:
            raise BodyTemplateError(line, f"the template has more than {MAX_TOKENS} tokens")
        if kind in ("integer", "float") and len(value) > MAX_NUMBER_DIGITS:
            raise BodyTemplateError(line, f"a number is over {MAX_NUMBER_DIGITS} digits long")
        if kind in ("block_begin", "variable_begin"):
            reading_tag_name = kind == "block_begin"
            brackets = unary_run = conditionals = 0
            continue
        if reading_tag_name:
            reading_tag_name = False
            if value in _BLOCK_TAGS:
                blocks += 1
            elif value.startswith("end"):
                blocks = max(blocks - 1, 0)
        elif kind == "operator" and value in _OPENING:
            brackets += 1
        elif kind == "operator" and value in _CLOSING:
            brackets = max(brackets - 1, 0)
        elif (kind, value) == ("name", "else"):
            conditionals += 1
        unary_run = unary_run + 1 if (kind, value) in _UNARY else 0
        if blocks + brackets + unary_run + conditionals > MAX_NESTING:
            raise BodyTemplateError(
                line, f"blocks, brackets and operators are nested more than {MAX_NESTING} deep"
            )


def _refused(node: nodes.Node) -> BodyTemplateError:
    if type(node) in _STATEMENTS:
        what = f"{{% {_STATEMENTS[type(node)]} %}}"
    elif type(node) in _EXPRESSIONS:
        what = _EXPRESSIONS[type(node)]
    elif isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
        what = f"the operator '{node.operator}'"
    else:
        what = f"this construct ({type(node).__name__})"
    return BodyTemplateError(node.lineno, f"{what} is not allowed in an issue body; {_ALLOWED}")


def _constant_arguments(node: nodes.Filter | nodes.Test) -> None:
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        raise BodyTemplateError(node.lineno, f"{node.name!r}: '*' arguments are not allowed")
    for argument in [*node.args, *(keyword.value for keyword in node.kwargs)]:
        if not isinstance(argument, nodes.Const):
            raise BodyTemplateError(
                node.lineno, f"{node.name!r}: arguments must be plain values such as 10 or 'text'"
            )


def _children(node: nodes.Node) -> list[nodes.Node]:
    """The nodes under ``node`` to check. Raises for anything outside the body language (how
    merge fields are used is checked by merge_syntax, once the depth is known to be bounded)."""
    if isinstance(node, nodes.TemplateData | nodes.Const):
        return []
    if isinstance(node, nodes.Output):
        return list(node.nodes)
    if isinstance(node, nodes.If):
        statements = [*node.body, *node.elif_, *node.else_]
        return [node.test, *statements]
    if isinstance(node, nodes.Name):
        if node.ctx != "load" or node.name not in NAMES:
            known = "subscriber, issue and newsletter"
            message = f"unknown name {node.name!r}: a body can use {known}"
            raise BodyTemplateError(node.lineno, message)
        return []
    if isinstance(node, nodes.Getattr):
        return [node.node]
    if isinstance(node, nodes.Getitem):
        if not isinstance(node.arg, nodes.Const):
            raise BodyTemplateError(node.lineno, "an index must be a plain value: x[0], x['name']")
        return [node.node]
    if isinstance(node, nodes.Filter | nodes.Test):
        allowed = FILTERS if isinstance(node, nodes.Filter) else TESTS
        if node.name not in allowed:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            raise BodyTemplateError(
                node.lineno,
                f"the {kind} {node.name!r} is not allowed in an issue body; "
                f"{kind}s: {', '.join(sorted(allowed))}",
            )
        _constant_arguments(node)
        return [] if node.node is None else [node.node]
    if isinstance(node, nodes.Compare):
        return [node.expr, *(operand.expr for operand in node.ops)]
    if isinstance(node, nodes.And | nodes.Or):
        return [node.left, node.right]
    if isinstance(node, nodes.Not):
        return [node.node]
    if isinstance(node, nodes.CondExpr):
        branches = [node.expr1] if node.expr2 is None else [node.expr1, node.expr2]
        return [node.test, *branches]
    if isinstance(node, nodes.List) or (isinstance(node, nodes.Tuple) and node.ctx == "load"):
        return list(node.items)
    raise _refused(node)


def _check_tree(tree: nodes.Template) -> None:
    """Walk the parsed body (without recursion: its depth is what is being checked)."""
    pending: list[tuple[nodes.Node, int]] = [(node, 1) for node in tree.body[::-1]]
    count = 0
    while pending:
        node, depth = pending.pop()
        count += 1
        if count > MAX_NODES:
            raise BodyTemplateError(node.lineno, f"the template has more than {MAX_NODES} parts")
        if depth > MAX_TEMPLATE_DEPTH:
            raise BodyTemplateError(
                node.lineno, f"the template is nested more than {MAX_TEMPLATE_DEPTH} levels deep"
            )
        pending.extend((child, depth + 1) for child in _children(node)[::-1])


@lru_cache(maxsize=32)
def compile_body(source: str) -> Template:
    """The body as a template, once it is known to stay within the body language."""
    try:
        _check_tokens(source)
        tree = _ENV.parse(source)
        _check_tree(tree)
        return _ENV.from_string(rewrite_merge_fields(tree))
    except BodyTemplateError:
        raise
    except TemplateSyntaxError as exc:
        raise BodyTemplateError(exc.lineno, exc.message or "syntax error") from None
    except RecursionError:  # the limits above should make this unreachable; never a traceback
        raise BodyTemplateError(1, "the template is nested too deeply") from None
    except ValueError as exc:  # from Python's own limits on literals; never a traceback
        raise BodyTemplateError(1, str(exc)) from None


def _bounded(pieces: Iterator[str]) -> str:
    kept: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise BodyTemplateError(
                1, f"the body renders to more than {MAX_RENDERED_CHARS:,} characters"
            )
        kept.append(piece)
    return "".join(kept)


def render_body(source: str, context: Mapping[str, Any]) -> str:
    """The body with its template parts rendered; every problem is a BodyTemplateError."""
    template = compile_body(source)
    try:
        pieces = cast(Generator[str, None, None], template.generate(context))
        with closing(pieces):
            return _bounded(pieces)
    except BodyTemplateError:
        raise
    except Exception as exc:  # whatever an editor's template runs into is reported, with its line
        frame = template_frame_line(exc.__traceback__, "<template>")
        line = getattr(exc, "lineno", None) or (frame[1] if frame else 1)
        raise BodyTemplateError(line, str(exc) or type(exc).__name__) from None
