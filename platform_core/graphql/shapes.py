"""GraphQL documents validated once per shape, their literal values per request.

Clients often write values into the document (``getProductById(id: 42)``),
so each request is a text never seen before, and graphql-core's validation
costs several times the parse. The *shape* of a document is its tokens with
every Int, Float and String literal replaced by its kind::

    { getProductById(id: 42) { id } }   ->   { getProductById ( id : <INT> ) ...

A shape is validated once with every rule. A later document of a known valid
shape is valid when each literal is a valid value of the input type at its
position, which is what ``ValuesOfCorrectTypeRule`` checks. It is the only
rule whose answer depends on a literal's value, but for
``OverlappingFieldsCanBeMergedRule``, which compares the arguments of fields
with the same response name: shapes with fragments or repeated response
names are therefore always validated in full, as are documents whose
literals do not pass (so their errors are worded by graphql-core).
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import (
    DocumentNode,
    FieldNode,
    FloatValueNode,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TokenKind,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_leaf_type,
    visit,
)
from graphql.pyutils import Undefined

_LITERALS = {
    TokenKind.INT: "<INT>",
    TokenKind.FLOAT: "<FLOAT>",
    TokenKind.STRING: "<STRING>",
    TokenKind.BLOCK_STRING: "<STRING>",
}


def shape_of(document: DocumentNode) -> tuple[str, list]:
    """Return the shape key of a parsed document and its literals, in order."""
    words, literals = [], []
    token = document.loc.start_token
    while token is not None:
        kind = token.kind
        marker = _LITERALS.get(kind)
        if marker is not None:
            words.append(marker)
            literals.append((kind, token.value))
        elif kind is not TokenKind.COMMENT:
            words.append(kind.value if token.value is None else token.value)
        token = token.next
    return " ".join(words), literals


def literal_node(kind: TokenKind, value: str):
    """Return the value node graphql-core builds for a literal token."""
    if kind is TokenKind.INT:
        return IntValueNode(value=value)
    if kind is TokenKind.FLOAT:
        return FloatValueNode(value=value)
    return StringValueNode(value=value, block=kind is TokenKind.BLOCK_STRING)


def valid_literal(named_type, kind: TokenKind, value: str) -> bool:
    """Whether a literal is a valid value of ``named_type`` (a leaf type)."""
    try:
        return named_type.parse_literal(literal_node(kind, value)) is not Undefined
    except Exception:  # graphql-core reports any failure as invalid
        return False


class _LiteralTypes(Visitor):
    """Collect the named input type at each literal, in document order."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.types: list = []
        self.values: list[str] = []

    def _leaf(self, node, *args):
        self.types.append(get_named_type(self.type_info.get_input_type()))
        self.values.append(node.value)

    enter_int_value = enter_float_value = enter_string_value = _leaf


def literal_types(schema: GraphQLSchema, document: DocumentNode, literals) -> list:
    """Return the leaf type at each literal of a valid document, or None when
    its shape must always be validated in full."""
    if not _plain_selections(document):
        return None
    collector = _LiteralTypes(TypeInfo(schema))
    visit(document, TypeInfoVisitor(collector.type_info, collector))
    if collector.values != [value for _, value in literals]:
        return None  # tokens and nodes do not pair up: never guess
    if not all(is_leaf_type(t) for t in collector.types):
        return None
    return collector.types


def _plain_selections(document: DocumentNode) -> bool:
    """Operations only, no fragments, unique response names per selection."""
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            return False
        if not _unique_fields(definition.selection_set):
            return False
    return True


def _unique_fields(selection_set: SelectionSetNode | None) -> bool:
    if selection_set is None:
        return True
    names = set()
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            return False
        name = (selection.alias or selection.name).value
        if name in names or not _unique_fields(selection.selection_set):
            return False
        names.add(name)
    return True


class Shapes:
    """Valid shapes of one schema (LRU): their literal types, or None."""

    size = 512

    def __init__(self) -> None:
        self._types: OrderedDict[str, list | None] = OrderedDict()

    def valid(self, key: str, literals) -> bool:
        """Whether a document of shape ``key`` with ``literals`` is valid."""
        types = self._types.get(key)
        if types is None:
            return False
        self._types.move_to_end(key)
        return all(
            valid_literal(t, kind, value)
            for t, (kind, value) in zip(types, literals, strict=True)
        )

    def knows(self, key: str) -> bool:
        """Whether shape ``key`` was validated in full before."""
        return key in self._types

    def learn(self, key: str, types: list | None) -> None:
        """Remember the literal types of a shape validated in full."""
        self._types[key] = types
        if len(self._types) > self.size:
            self._types.popitem(last=False)
