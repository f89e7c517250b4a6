"""``BRCode``: a decoded or built BR Code as its ordered data objects, with typed views."""

from __future__ import annotations

from dataclasses import dataclass

from pagtracker.pix.ids import NO_TXID

from .layout import (
    _AMOUNT,
    _MERCHANT_ACCOUNT_IDS,
    _UNRESERVED_IDS,
    ID_ADDITIONAL_DATA,
    ID_AMOUNT,
    ID_COUNTRY,
    ID_CURRENCY,
    ID_MCC,
    ID_MERCHANT_CITY,
    ID_MERCHANT_NAME,
    ID_POINT_OF_INITIATION,
    ID_POSTAL_CODE,
    PIX_GUI,
    SUB_FSS,
    SUB_GUI,
    SUB_INFO,
    SUB_KEY,
    SUB_REFERENCE_LABEL,
    SUB_URL,
)
from .tlv import DataObject


def _is_pix_template(data_object: DataObject) -> bool:
    gui = data_object.child_text(SUB_GUI)
    return gui is not None and gui.lower() == PIX_GUI  # The GUI is case-insensitive.


@dataclass(frozen=True)
class BRCode:
    """A BR Code as its ordered data objects (CRC excluded: the encoder computes it).

    Keeping every object in order is what makes re-encoding byte-for-byte exact, other
    arrangements' objects included. The properties give typed access to the Pix fields.
    """

    objects: tuple[DataObject, ...]

    def get(self, object_id: str) -> DataObject | None:
        for data_object in self.objects:
            if data_object.id == object_id:
                return data_object
        return None

    def _text(self, object_id: str) -> str | None:
        data_object = self.get(object_id)
        if data_object is None or not isinstance(data_object.value, str):
            return None
        return data_object.value

    @property
    def point_of_initiation(self) -> str | None:
        """``None`` (static), ``"11"`` (static/reusable) or ``"12"`` (single use)."""
        return self._text(ID_POINT_OF_INITIATION)

    @property
    def pix_account(self) -> DataObject | None:
        """The first merchant account template (26-51) whose GUI is ``br.gov.bcb.pix``."""
        for data_object in self.objects:
            if data_object.id in _MERCHANT_ACCOUNT_IDS and _is_pix_template(data_object):
                return data_object
        return None

    def _pix_text(self, sub_id: str) -> str | None:
        account = self.pix_account
        return None if account is None else account.child_text(sub_id)

    @property
    def gui(self) -> str | None:
        return self._pix_text(SUB_GUI)

    @property
    def key(self) -> str | None:
        return self._pix_text(SUB_KEY)

    @property
    def info_adicional(self) -> str | None:
        return self._pix_text(SUB_INFO)

    @property
    def fss(self) -> str | None:
        return self._pix_text(SUB_FSS)

    @property
    def url(self) -> str | None:
        """Payload location of a dynamic code, without scheme."""
        return self._pix_text(SUB_URL)

    @property
    def other_merchant_accounts(self) -> tuple[DataObject, ...]:
        """Merchant account objects (02-51) of other arrangements, in payload order."""
        pix_account = self.pix_account
        return tuple(
            data_object
            for data_object in self.objects
            if "02" <= data_object.id <= "51" and data_object is not pix_account
        )

    @property
    def mcc(self) -> str | None:
        return self._text(ID_MCC)

    @property
    def currency(self) -> str | None:
        return self._text(ID_CURRENCY)

    @property
    def amount(self) -> str | None:
        """Object 54 exactly as written (e.g. ``"123.45"``)."""
        return self._text(ID_AMOUNT)

    @property
    def amount_cents(self) -> int | None:
        """Object 54 in centavos; ``None`` when the payer types the amount."""
        amount = self.amount
        if amount is None:
            return None
        match = _AMOUNT.fullmatch(amount)
        if match is None:
            return None
        whole, fraction = match.groups()
        return int(whole) * 100 + int((fraction or "").ljust(2, "0"))

    @property
    def country(self) -> str | None:
        return self._text(ID_COUNTRY)

    @property
    def merchant_name(self) -> str | None:
        return self._text(ID_MERCHANT_NAME)

    @property
    def merchant_city(self) -> str | None:
        return self._text(ID_MERCHANT_CITY)

    @property
    def postal_code(self) -> str | None:
        return self._text(ID_POSTAL_CODE)

    @property
    def additional_data(self) -> tuple[DataObject, ...]:
        """Sub-fields of template 62 (txid and any other EMV sub-field), in payload order."""
        data_object = self.get(ID_ADDITIONAL_DATA)
        return () if data_object is None else data_object.children

    @property
    def reference_label(self) -> str | None:
        """62-05 exactly as written, ``***`` included."""
        data_object = self.get(ID_ADDITIONAL_DATA)
        return None if data_object is None else data_object.child_text(SUB_REFERENCE_LABEL)

    @property
    def txid(self) -> str | None:
        """62-05, or ``None`` when absent or ``***`` ("no txid")."""
        label = self.reference_label
        return None if label is None or label == NO_TXID else label

    @property
    def unreserved_templates(self) -> tuple[DataObject, ...]:
        return tuple(obj for obj in self.objects if obj.id in _UNRESERVED_IDS)

    @property
    def recurrence_url(self) -> str | None:
        """Pix Automático recurrence URL: sub-field 25 of an 80-99 template with the Pix GUI."""
        for data_object in self.unreserved_templates:
            if _is_pix_template(data_object):
                url = data_object.child_text(SUB_URL)
                if url is not None:
                    return url
        return None

    @property
    def is_dynamic(self) -> bool:
        return self.url is not None
