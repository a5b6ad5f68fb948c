"""Merge fields in a parsed template: which uses of ``subscriber`` can be honoured per reader.

A template is rendered once per campaign, so ``subscriber.first_name`` is a token there, and a
token is always truthy. The few constructs that depend on a field's value are rewritten on the
parsed template into markers that carry both branches, and each reader's copy picks one when
it is filled in (``mailer.render.merge_branches``):

- ``{% if subscriber.X %}A{% elif ... %}B{% else %}C{% endif %}`` and ``{% if not subscriber.X %}``
- ``{{ subscriber.X | default("there") }}`` and ``{{ subscriber.X or "there" }}`` (the fallback
  shows when the value is empty)
- ``{{ "a" if subscriber.X else "b" }}``

Anything else that would look at a field's value (other filters, comparisons, ``set``) is an
error with its line, and so is a field that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from mailer.render.tokens import (
    ATTRIBUTE_NAME,
    ATTRIBUTE_PREFIX,
    STANDARD_FIELDS,
    else_marker,
    end_marker,
    if_marker,
)

SUBSCRIBER = "subscriber"
FIELDS_SHOWN = ", ".join(STANDARD_FIELDS) + " and attributes.X"
ALLOWED = (
    "a subscriber field can be shown ({{ subscriber.X }}), given a fallback "
    "({{ subscriber.X | default('...') }} or {{ subscriber.X or '...' }}) or tested alone "
    "({% if subscriber.X %}, {% if not subscriber.X %}, {{ 'a' if subscriber.X else 'b' }})"
)
_DEFAULT_FILTERS = frozenset({"default", "d"})
_STATEMENT_LISTS = ("body", "else_")


def _error(node: nodes.Node, message: str) -> TemplateSyntaxError:
    return TemplateSyntaxError(message, node.lineno)


def _mentions_subscriber(node: nodes.Node) -> bool:
    return any(name.name == SUBSCRIBER for name in _names(node))


def _names(node: nodes.Node) -> Iterable[nodes.Name]:
    if isinstance(node, nodes.Name):
        yield node
    yield from node.find_all(nodes.Name)


def _key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _is_subscriber(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == SUBSCRIBER


def merge_field(node: nodes.Node) -> str | None:
    """The field ``node`` reads ("first_name", "attr.city"), or None when it is not one.
    An unknown field is an error naming it."""
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    key = _key(node)
    if _is_subscriber(node.node):
        if key in STANDARD_FIELDS:
            return key
        if key == "attributes":
            raise _error(node, "subscriber.attributes is not a value; use subscriber.attributes.X")
        raise _error(node, f"subscriber.{key} is not a subscriber field; fields are {FIELDS_SHOWN}")
    inner = node.node
    if isinstance(inner, nodes.Getattr | nodes.Getitem) and _is_subscriber(inner.node):
        if _key(inner) != "attributes":
            merge_field(inner)  # names the unknown field
            return None
        if key is None or not ATTRIBUTE_NAME.match(key):
            raise _error(
                node, f"subscriber.attributes.{key}: attribute names use letters, digits, - and _"
            )
        return ATTRIBUTE_PREFIX + key
    return None


def _field_in(node: nodes.Node) -> str | None:
    for found in [node, *node.find_all((nodes.Getattr, nodes.Getitem))]:
        field = merge_field(found)
        if field is not None:
            return field
    return None


def _refused(node: nodes.Node) -> TemplateSyntaxError:
    field = _field_in(node)
    shown = "subscriber." + field.replace(ATTRIBUTE_PREFIX, "attributes.") if field else SUBSCRIBER
    return _error(node, f"{shown} is used in a way that cannot be filled in per reader; {ALLOWED}")


def _condition(test: nodes.Node) -> tuple[str, bool]:
    """The field a test reads and whether it is negated."""
    negated = False
    while isinstance(test, nodes.Not):
        negated, test = not negated, test.node
    field = merge_field(test)
    if field is None:
        raise _refused(test)
    return field, negated


def _marked(
    line: int, test: nodes.Node, shown: list[nodes.Expr], otherwise: list[nodes.Expr]
) -> list[nodes.Expr]:
    field, negated = _condition(test)
    return [
        nodes.TemplateData(if_marker(field, negated), lineno=line),
        *shown,
        nodes.TemplateData(else_marker(), lineno=line),
        *otherwise,
        nodes.TemplateData(end_marker(), lineno=line),
    ]


def _expression(node: nodes.Expr) -> list[nodes.Expr]:
    """An expression of ``{{ ... }}`` as what to output: itself, or markers and branches."""
    if not _mentions_subscriber(node) or merge_field(node) is not None:
        return [node]
    if isinstance(node, nodes.Filter) and node.name in _DEFAULT_FILTERS and node.node is not None:
        if node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) > 2:
            raise _refused(node)
        fallback = node.args[0] if node.args else nodes.Const("", lineno=node.lineno)
        return _fallback(node, node.node, fallback)
    if isinstance(node, nodes.Or):
        return _fallback(node, node.left, node.right)
    if isinstance(node, nodes.CondExpr):
        otherwise = [] if node.expr2 is None else _expression(node.expr2)
        return _marked(node.lineno, node.test, _expression(node.expr1), otherwise)
    raise _refused(node)


def _fallback(node: nodes.Expr, value: nodes.Expr, fallback: nodes.Expr) -> list[nodes.Expr]:
    if merge_field(value) is None or _mentions_subscriber(fallback):
        raise _refused(node)
    return _marked(node.lineno, value, [value], [fallback])


def _statement(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.Output):
        node.nodes = [shown for child in node.nodes for shown in _expression(child)]
        return [node]
    if isinstance(node, nodes.If):
        if node.elif_:  # an elif is an if inside the else
            first, *rest = node.elif_
            node.else_ = [nodes.If(first.test, first.body, rest, node.else_, lineno=first.lineno)]
            node.elif_ = []
        node.body = statements(node.body)
        node.else_ = statements(node.else_)
        if not _mentions_subscriber(node.test):
            return [node]
        markers = _marked(node.lineno, node.test, [], [])
        start, middle, end = (nodes.Output([marker], lineno=node.lineno) for marker in markers)
        return [start, *node.body, middle, *node.else_, end]
    for field in _STATEMENT_LISTS:
        inner = getattr(node, field, None)
        if isinstance(inner, list):
            setattr(node, field, statements(inner))
    for child in node.iter_child_nodes(exclude=_STATEMENT_LISTS):
        if _mentions_subscriber(child):
            raise _refused(child)
    return [node]


def statements(body: list[nodes.Node]) -> list[nodes.Node]:
    """``body`` with every use of a merge field checked and its conditionals made markers."""
    return [rewritten for node in body for rewritten in _statement(node)]


def rewrite_merge_fields(tree: nodes.Template) -> nodes.Template:
    tree.body = statements(tree.body)
    return tree
