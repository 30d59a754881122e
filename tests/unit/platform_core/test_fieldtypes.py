"""FieldTypeRegistry: registration, MRO look-up, and the built-in table."""

from __future__ import annotations

import decimal

import graphene
import pytest
from django.db import models

from platform_core.exceptions import AlreadyRegistered, APIError, NotRegistered
from platform_core.fieldtypes import (
    ARRAY_FIELD_OPERATORS,
    COMPARISON_OPERATORS,
    EQUALITY_OPERATORS,
    TEXT_OPERATORS,
    FieldType,
    FieldTypeRegistry,
    Invalid,
    fieldtypes,
    parsers,
)
from platform_core.introspection import FieldInfo


class MoneyField(models.DecimalField):
    """A decimal subclass with no entry of its own."""


class InetField(models.GenericIPAddressField):
    """A column type the built-in table does not know."""


def parse_address(value, from_text):
    if isinstance(value, str) and value.count(".") == 3:
        return value
    raise Invalid("an IP address")


INET = FieldType(
    parse_address, {"type": "string", "format": "ip"}, operators=EQUALITY_OPERATORS
)
DECIMAL = FieldType(parsers.decimal, {"type": "string", "format": "decimal"})


def field(field_type: str, **options) -> FieldInfo:
    """Return a column ``x`` of ``field_type``."""
    return FieldInfo(
        "x",
        "x",
        "x",
        field_type,
        options.pop("null", False),
        has_default=False,
        auto=False,
        primary_key=False,
        **options,
    )


# Registration


def test_registered_type_is_got_by_class_and_by_name():
    registry = FieldTypeRegistry()
    assert registry.register(InetField, INET, db_types=("INET",)) is INET
    assert registry.is_registered(InetField)
    assert registry.get(InetField) is INET
    assert registry.get("InetField") is INET
    assert registry.column_field_type("inet") == "InetField"
    assert registry.db_types == ("inet",)
    assert list(registry) == [InetField]


def test_subclass_inherits_the_entry_of_its_base():
    registry = FieldTypeRegistry()
    registry.register(models.DecimalField, DECIMAL)
    assert not registry.is_registered(MoneyField)
    assert registry.get(MoneyField) is DECIMAL


def test_subclass_entry_wins_over_its_base():
    registry = FieldTypeRegistry()
    registry.register(models.DecimalField, DECIMAL)
    money = FieldType(parsers.decimal, {"type": "string", "format": "money"})
    registry.register(MoneyField, money)
    assert registry.get(MoneyField) is money
    assert registry.get(models.DecimalField) is DECIMAL


def test_duplicate_registration_is_refused():
    registry = FieldTypeRegistry()
    registry.register(InetField, INET)
    with pytest.raises(
        AlreadyRegistered,
        match="The field class 'InetField' already has a field type. "
        "Unregister it first to replace it.",
    ):
        registry.register(InetField, INET)


def test_two_classes_of_one_name_are_refused():
    registry = FieldTypeRegistry()
    registry.register(InetField, INET)
    other = type("InetField", (models.Field,), {"__module__": "elsewhere"})
    with pytest.raises(
        AlreadyRegistered,
        match=r"Another field class named 'InetField' \(tests\.unit\..*\) has a "
        "field type",
    ):
        registry.register(other, INET)


def test_database_type_read_as_another_class_is_refused():
    registry = FieldTypeRegistry()
    registry.register(InetField, INET, db_types=("inet",))
    with pytest.raises(
        AlreadyRegistered,
        match="The database type 'inet' is already read as 'InetField'.",
    ):
        registry.register(MoneyField, DECIMAL, db_types=("Inet",))
    assert not registry.is_registered(MoneyField)


def test_only_field_classes_are_registered():
    with pytest.raises(TypeError, match="register\\(\\) takes a Django field class"):
        FieldTypeRegistry().register("InetField", INET)


def test_unknown_operator_is_refused_with_a_suggestion():
    entry = FieldType(parse_address, {}, operators=("eq", "isnull"))
    with pytest.raises(
        ValueError,
        match="Unknown operator 'isnull' in the field type of 'InetField'.*"
        "Did you mean 'isNull'\\?",
    ):
        FieldTypeRegistry().register(InetField, entry)


def test_unregister_forgets_the_class_and_its_database_types():
    registry = FieldTypeRegistry()
    registry.register(InetField, INET, db_types=("inet",))
    registry.unregister(InetField)
    assert not registry.is_registered(InetField)
    assert registry.column_field_type("inet") is None
    with pytest.raises(NotRegistered):
        registry.get(InetField)


def test_unregister_of_an_inherited_entry_is_refused():
    registry = FieldTypeRegistry()
    registry.register(models.DecimalField, DECIMAL)
    with pytest.raises(
        NotRegistered,
        match="The field class 'MoneyField' has no field type of its own.",
    ):
        registry.unregister(MoneyField)


def test_register_temporarily_unregisters_after_the_block():
    registry = FieldTypeRegistry()
    with registry.register_temporarily(InetField, INET, ("inet",)) as entry:
        assert registry.get(InetField) is entry is INET
    assert not registry.is_registered(InetField)
    assert registry.column_field_type("inet") is None


# Look-up


def test_unknown_class_name_suggests_the_nearest():
    registry = FieldTypeRegistry()
    registry.register(InetField, INET)
    with pytest.raises(
        NotRegistered,
        match=r"No field class 'InetFeld'\. Registered: InetField\. "
        r"Did you mean 'InetField'\?",
    ):
        registry.get("InetFeld")


def test_class_without_an_entry_in_its_bases_is_refused():
    with pytest.raises(
        NotRegistered,
        match=r"No field type for 'CharField' or its base classes\. Register one: "
        r"fieldtypes\.register\(CharField, FieldType\(\.\.\.\)\)\.",
    ):
        FieldTypeRegistry().get(models.CharField)


def test_column_of_an_unknown_class_reads_as_text():
    entry = fieldtypes.get_for_field(field("GeometryField"))
    assert entry is fieldtypes.get(models.Field)
    assert entry is fieldtypes.get(models.GenericIPAddressField)
    assert entry.operators == COMPARISON_OPERATORS


def test_a_registration_changes_what_columns_already_read():
    registry = FieldTypeRegistry()
    registry.register(models.Field, DECIMAL)
    assert registry.get_for_field(field("InetField")) is DECIMAL
    registry.register(InetField, INET)
    assert registry.get_for_field(field("InetField")) is INET


# The built-in table


@pytest.mark.parametrize(
    ("field_class", "operators"),
    [
        (models.CharField, TEXT_OPERATORS),
        (models.EmailField, TEXT_OPERATORS),
        (models.UUIDField, TEXT_OPERATORS),
        (models.BigAutoField, COMPARISON_OPERATORS),
        (models.DateTimeField, COMPARISON_OPERATORS),
        (models.JSONField, COMPARISON_OPERATORS),
        ("ArrayField", ARRAY_FIELD_OPERATORS),
    ],
)
def test_builtin_operators(field_class, operators):
    assert fieldtypes.get(field_class).operators == operators


def test_builtin_checks_keep_their_messages():
    small = field("PositiveSmallIntegerField")
    with pytest.raises(
        APIError, match=r'Value 40000 for "x" is out of range \(0 to 32767\)'
    ):
        fieldtypes.to_python(small, "40000", from_text=True)
    with pytest.raises(
        APIError, match=r"""Invalid value 'a' for "x" in where: expected an integer"""
    ):
        fieldtypes.to_python(small, "a", from_text=True, where=" in where")
    with pytest.raises(APIError, match='"x" is longer than 3 characters') as caught:
        fieldtypes.to_python(field("CharField", max_length=3), "abcd")
    assert caught.value.code == "VALUE_TOO_LONG"
    price = field("DecimalField", max_digits=4, decimal_places=2)
    assert fieldtypes.to_python(price, "9.50", True) == decimal.Decimal("9.50")
    with pytest.raises(APIError, match=r"does not fit NUMERIC\(4, 2\)"):
        fieldtypes.to_python(price, "9.555", True)


def test_arrays_read_each_element_as_its_type():
    tags = field("ArrayField", array_of="IntegerField")
    assert fieldtypes.to_python(tags, "1,2", from_text=True) == [1, 2]
    with pytest.raises(APIError, match="expected a list"):
        fieldtypes.to_python(tags, 3)
    assert fieldtypes.openapi_schema(tags) == {
        "type": "array",
        "items": {"type": "integer", "format": "int32", "nullable": True},
    }
    assert fieldtypes.output_scalar(tags).of_type is graphene.Int


def test_builtin_schemas_and_scalars():
    stamp = field("DateTimeField", null=True)
    assert fieldtypes.openapi_schema(stamp) == {
        "type": "string",
        "format": "date-time",
        "nullable": True,
    }
    assert fieldtypes.output_scalar(stamp) is graphene.DateTime
    assert fieldtypes.input_scalar(stamp) is graphene.String
    assert fieldtypes.openapi_schema(field("JSONField", null=True)) == {}
    assert fieldtypes.output_scalar(field("BigAutoField")) is graphene.BigInt
    assert fieldtypes.openapi_schema(
        field("DecimalField", max_digits=5, decimal_places=2)
    ) == {"type": "string", "format": "decimal", "pattern": r"^-?\d{1,3}(\.\d{1,2})?$"}
