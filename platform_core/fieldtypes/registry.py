"""FieldTypeRegistry: field types by Django field class, subclasses inheriting.

A lookup walks the class's MRO, so ``AwareDateTimeField`` reads as
``DateTimeField`` and an unregistered ``MoneyField(DecimalField)`` as a
decimal. ``FieldInfo.field_type`` names the class; names resolve to
registered classes first, then to Django's own::

    registry = FieldTypeRegistry()
    registry.register(InetField, inet, db_types=("inet",))
    registry.get(InetField) is inet
    registry.get_for_field(info.fields["address"]).operators
    registry.column_field_type("inet")        # "InetField", for db.tables
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models

from platform_core.exceptions import AlreadyRegistered, NotRegistered, did_you_mean
from platform_core.fieldtypes.fieldtype import BaseFieldType
from platform_core.fieldtypes.operators import OPERATORS
from platform_core.introspection import FieldInfo


class FieldTypeRegistry:
    """What each column type means: one entry per Django field class."""

    def __init__(self) -> None:
        self._types: dict[type[models.Field], BaseFieldType] = {}
        self._names: dict[str, type[models.Field]] = {}
        self._db_types: dict[str, type[models.Field]] = {}
        # get_for_field is on every value's path: entries by field_type name.
        self._resolved: dict[str, BaseFieldType] = {}

    def register(
        self,
        field_class: type[models.Field],
        field_type: BaseFieldType,
        db_types: Iterable[str] = (),
    ) -> BaseFieldType:
        """Register ``field_type`` for ``field_class`` and its subclasses.

        ``db_types`` names database column types (``"inet"``) that
        ``db.tables`` reads as ``field_class``. Raise AlreadyRegistered if the
        class, its name or a database type is taken; raise ValueError for an
        operator no where clause knows.
        """
        _check_class(field_class)
        name, db_types = field_class.__name__, [t.lower() for t in db_types]
        if field_class in self._types:
            raise AlreadyRegistered(
                f"The field class '{name}' already has a field type. "
                "Unregister it first to replace it."
            )
        if name in self._names:
            raise AlreadyRegistered(
                f"Another field class named '{name}' "
                f"({self._names[name].__module__}) has a field type; columns "
                "name their field class by name, so rename one of them."
            )
        for db_type in db_types:
            if db_type in self._db_types:
                raise AlreadyRegistered(
                    f"The database type '{db_type}' is already read as "
                    f"'{self._db_types[db_type].__name__}'."
                )
        _check_operators(name, field_type.operators)
        self._types[field_class] = field_type
        self._names[name] = field_class
        self._db_types.update(dict.fromkeys(db_types, field_class))
        self._resolved.clear()
        return field_type

    def unregister(self, field_class: type[models.Field]) -> None:
        """Forget the field type of ``field_class`` and its database types.

        Raise NotRegistered if the class has no field type of its own.
        """
        if field_class not in self._types:
            raise NotRegistered(
                f"The field class '{field_class.__name__}' has no field type "
                "of its own." + did_you_mean(field_class.__name__, self._names)
            )
        del self._types[field_class]
        del self._names[field_class.__name__]
        for db_type in [t for t, c in self._db_types.items() if c is field_class]:
            del self._db_types[db_type]
        self._resolved.clear()

    def is_registered(self, field_class: type[models.Field]) -> bool:
        """Return whether ``field_class`` has a field type of its own."""
        return field_class in self._types

    def get(self, field_class: type[models.Field] | str) -> BaseFieldType:
        """Return the field type of a class (or class name), along its MRO.

        Raise NotRegistered if neither the class nor a base has one, or if
        no field class has that name.
        """
        cls = field_class
        if isinstance(field_class, str):
            cls = self.field_class(field_class)
            if cls is None:
                raise NotRegistered(
                    f"No field class '{field_class}'. Registered: "
                    f"{', '.join(sorted(self._names)) or 'none'}."
                    + did_you_mean(field_class, self._names)
                )
        for base in cls.__mro__:
            if base in self._types:
                return self._types[base]
        raise NotRegistered(
            f"No field type for '{cls.__name__}' or its base classes. Register "
            f"one: fieldtypes.register({cls.__name__}, FieldType(...))."
        )

    def __iter__(self) -> Iterator[type[models.Field]]:
        return iter(self._types)

    def field_class(self, name: str) -> type[models.Field] | None:
        """Return the field class ``name``: a registered one, else Django's."""
        cls = self._names.get(name) or getattr(models, name, None)
        if isinstance(cls, type) and issubclass(cls, models.Field):
            return cls
        return None

    def get_for_field(self, field: FieldInfo) -> BaseFieldType:
        """Return the field type of a column; unknown classes are ``Field``."""
        try:
            return self._resolved[field.field_type]
        except KeyError:
            entry = self.get(self.field_class(field.field_type) or models.Field)
            self._resolved[field.field_type] = entry
            return entry

    def column_field_type(self, db_type: str) -> str | None:
        """Return the field class name read for a database type, or None."""
        cls = self._db_types.get(db_type.lower())
        return None if cls is None else cls.__name__

    @property
    def db_types(self) -> tuple[str, ...]:
        """Return the registered database type names (lower case)."""
        return tuple(self._db_types)

    @contextmanager
    def register_temporarily(
        self,
        field_class: type[models.Field],
        field_type: BaseFieldType,
        db_types: Iterable[str] = (),
    ) -> Iterator[BaseFieldType]:
        """Register a field type for the duration of the block (tests)."""
        self.register(field_class, field_type, db_types)
        try:
            yield field_type
        finally:
            self.unregister(field_class)

    # What the APIs ask of a column, through its entry.

    def to_python(
        self, field: FieldInfo, value: Any, from_text: bool = False, where: str = ""
    ) -> Any:
        """Return ``value`` as the field's Python value; None stays None."""
        if value is None:
            return None
        return self.get_for_field(field).to_python(field, value, from_text, where)

    def openapi_schema(self, field: FieldInfo) -> dict:
        """Return the OpenAPI schema of the values, nullable if the field is."""
        schema = self.get_for_field(field).schema_of(field)
        if field.null and schema:
            schema["nullable"] = True
        return schema

    def output_scalar(self, field: FieldInfo) -> Any:
        """Return the graphene type of the field's values in answers."""
        return self.get_for_field(field).output_scalar(field)

    def input_scalar(self, field: FieldInfo) -> Any:
        """Return the graphene type of the field's values in arguments."""
        return self.get_for_field(field).input_scalar(field)

    def operators(self, field: FieldInfo) -> tuple[str, ...]:
        """Return the where operators the field allows."""
        return self.get_for_field(field).operators


def _check_class(field_class: Any) -> None:
    if not (isinstance(field_class, type) and issubclass(field_class, models.Field)):
        raise TypeError(
            f"register() takes a Django field class, not {field_class!r}: "
            "e.g. register(InetField, FieldType(...))."
        )


def _check_operators(name: str, operators: Iterable[str]) -> None:
    for op in operators:
        if op not in OPERATORS:
            raise ValueError(
                f"Unknown operator '{op}' in the field type of '{name}'. "
                f"Operators: {', '.join(OPERATORS)}." + did_you_mean(op, OPERATORS)
            )
