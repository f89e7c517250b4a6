"""EMV TLV: data objects (ID, two-digit length, value), nested templates, and their parsing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pagtracker.pix.errors import (
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    BRCodeInvalid,
    NonAsciiText,
)

from .layout import (
    _MERCHANT_ACCOUNT_IDS,
    _PRINTABLE_ASCII,
    _ROOT_NAMES,
    _TEMPLATE_IDS,
    _TWO_DIGITS,
    _UNRESERVED_IDS,
    MAX_VALUE_LENGTH,
)


@dataclass(frozen=True, slots=True)
class DataObject:
    """One EMV data object: a 2-digit ID and either a text value or nested objects (template)."""

    id: str
    value: str | tuple[DataObject, ...]

    @property
    def is_template(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def children(self) -> tuple[DataObject, ...]:
        return () if isinstance(self.value, str) else self.value

    def child(self, sub_id: str) -> DataObject | None:
        for child in self.children:
            if child.id == sub_id:
                return child
        return None

    def child_text(self, sub_id: str) -> str | None:
        child = self.child(sub_id)
        return child.value if child is not None and isinstance(child.value, str) else None


def _field_name(object_id: str, parent_id: str | None) -> str:
    if parent_id is None:
        if object_id in _ROOT_NAMES:
            return _ROOT_NAMES[object_id]
        if object_id in _MERCHANT_ACCOUNT_IDS:
            return f"merchant account information ({object_id})"
        if object_id in _UNRESERVED_IDS:
            return f"unreserved template ({object_id})"
        return f"data object {object_id}"
    return f"sub-field {object_id} of {_field_name(parent_id, None)}"


def _encode_object(data_object: DataObject, parent_id: str | None) -> str:
    name = _field_name(data_object.id, parent_id)
    if not _TWO_DIGITS.fullmatch(data_object.id):
        raise BRCodeFieldInvalid(f"{name}: an ID is two digits", field=data_object.id)
    if isinstance(data_object.value, str):
        value = data_object.value
        if not value.isascii():
            raise NonAsciiText(f"{name} must be ASCII, got {value!r}", field=data_object.id)
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise BRCodeFieldInvalid(
                f"{name} contains control characters: {value!r}", field=data_object.id
            )
    else:
        if parent_id is not None:
            raise BRCodeFieldInvalid(f"{name}: templates do not nest", field=data_object.id)
        value = "".join(_encode_object(child, data_object.id) for child in data_object.value)
    if len(value) > MAX_VALUE_LENGTH:
        raise BRCodeFieldTooLong(
            f"{name} is {len(value)} characters long; a data object holds at most "
            f"{MAX_VALUE_LENGTH}",
            field=data_object.id,
            limit=MAX_VALUE_LENGTH,
        )
    return f"{data_object.id}{len(value):02d}{value}"


def encode_tlv(objects: Iterable[DataObject]) -> str:
    """ID + 2-digit decimal length + value for each object, in the order given."""
    return "".join(_encode_object(data_object, None) for data_object in objects)


def _split_tlv(text: str, *, where: str, offset: int) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        at = offset + position
        if len(header) < 4 or not _TWO_DIGITS.fullmatch(header[:2]):
            raise BRCodeInvalid(f"malformed data object at position {at} in {where}: {header!r}")
        if not _TWO_DIGITS.fullmatch(header[2:]):
            raise BRCodeInvalid(
                f"data object {header[:2]} at position {at} in {where} has a non-numeric "
                f"length {header[2:]!r}"
            )
        length = int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if len(value) < length:
            raise BRCodeInvalid(
                f"data object {header[:2]} at position {at} in {where} declares {length} "
                f"characters but only {len(value)} remain"
            )
        pairs.append((header[:2], value))
        position += 4 + length
    return pairs


def decode_tlv(text: str) -> tuple[DataObject, ...]:
    """Parse root-level TLV text. Templates (26-51, 62, 80-99) are parsed one level deep.

    Raises ``BRCodeInvalid`` on malformed or duplicated objects.
    """
    objects: list[DataObject] = []
    seen: set[str] = set()
    position = 0
    for object_id, value in _split_tlv(text, where="the payload", offset=0):
        if object_id in seen:
            raise BRCodeInvalid(f"{_field_name(object_id, None)} appears twice")
        seen.add(object_id)
        if object_id in _TEMPLATE_IDS:
            name = _field_name(object_id, None)
            children: list[DataObject] = []
            child_ids: set[str] = set()
            for child_id, child_value in _split_tlv(value, where=name, offset=position + 4):
                if child_id in child_ids:
                    raise BRCodeInvalid(f"sub-field {child_id} appears twice in {name}")
                child_ids.add(child_id)
                children.append(DataObject(child_id, child_value))
            objects.append(DataObject(object_id, tuple(children)))
        else:
            objects.append(DataObject(object_id, value))
        position += 4 + len(value)
    return tuple(objects)
