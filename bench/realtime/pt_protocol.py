"""Protocol adapter of PagTracker's realtime sockets for the shared WebSocket harness
(/work/shared/anchor-harness: ws_idle.py, ws_fanout.py, ws_pairs.py).

The payer's flow, as the anchor's clients do it: connect to ``/ws/payments/``, send
``JOIN_ROOM {roomId, deviceId}`` and wait for ``ROOM_JOINED``; device events (CLICKED_PAY) are
relayed to the other members. Our rooms are opened by credentials: here each harness room is
one seeded charge, joined by its public code (the hosted page's credential), taken in order
from the JSON list in ``$PT_RT_CODES``. Without ``--join`` (ws_idle) sockets just connect.
"""

import json
import os


class PagTrackerProtocol:
    name = "pagtracker"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/") + "/ws/payments/"
        self.codes: list[str] = []
        path = os.environ.get("PT_RT_CODES")
        if path:
            with open(path) as f:
                self.codes = json.load(f)
        self.rooms: dict[str, str] = {}

    def code_for(self, room: str) -> str:
        code = self.rooms.get(room)
        if code is None:
            if len(self.rooms) >= len(self.codes):
                raise RuntimeError(f"only {len(self.codes)} seeded charges in $PT_RT_CODES")
            code = self.rooms[room] = self.codes[len(self.rooms)]
        return code

    def url(self, room: str) -> str:
        return self.base_url

    async def join(self, ws, room: str, device_id: str) -> None:
        code = self.code_for(room)
        await ws.send(
            json.dumps({"type": "JOIN_ROOM", "payload": {"roomId": code, "deviceId": device_id}})
        )
        while True:
            if json.loads(await ws.recv()).get("type") == "ROOM_JOINED":
                return

    def event(self, room: str, device_id: str, seq: int, t_ns: int) -> str:
        return json.dumps(
            {
                "type": "CLICKED_PAY",
                "payload": {
                    "roomId": self.code_for(room),
                    "deviceId": device_id,
                    "seq": seq,
                    "t": t_ns,
                },
            }
        )

    def parse(self, raw: str):
        """-> (seq, t_ns) for a relayed benchmark event, else None"""
        m = json.loads(raw)
        if m.get("type") == "CLICKED_PAY":
            p = m["payload"]
            return p.get("seq"), p.get("t")
        return None
