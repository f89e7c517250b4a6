"""Server pushes: charge domain events, after commit, mapped to seed 003's frames and sent to
the charge's room and to the merchant channel (``/ws/merchant/``, and back-office's
all-merchants channel).

Subscribed in ``RealtimeConfig.ready``; runs on whatever thread committed the change (a
request thread, the task worker), so it only hands the frames to the hub."""

from pagtracker.events import DomainEvent

from . import frames
from .hub import HUB
from .rooms import ALL_MERCHANTS_GROUP, charge_group, merchant_channel_group

PUSH_TYPES = {
    "payment.confirmed": "PAYMENT_CONFIRMED",
    "payment.expired": "PAYMENT_EXPIRED",
    "payment.canceled": "PAYMENT_CANCELED",
    "payment.refunded": "PAYMENT_REFUNDED",
}


def payment_event_push(event: DomainEvent) -> None:
    frame_type = PUSH_TYPES.get(event.name)
    if frame_type is None:
        return
    charge, refund = event.data["charge"], event.data.get("refund")
    room_frame = frames.frame(frame_type, frames.charge_payload(charge, public=True, refund=refund))
    merchant_frame = frames.frame(
        frame_type, frames.charge_payload(charge, public=False, refund=refund)
    )
    HUB.publish_from_sync(
        [
            (charge_group(merchant_id=event.merchant_id, charge_id=str(charge.id)), room_frame),
            (merchant_channel_group(event.merchant_id), merchant_frame),
            (ALL_MERCHANTS_GROUP, merchant_frame),
        ]
    )
