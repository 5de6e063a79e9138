"""Every answer Moodle reads names a status in the plugin's six (moodle_plugin/classes/local/status.php), which
takes no aliases: an issuance being sealed is 'queued' to it, in the event's answer as in the issuance list."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import update

from bridge.registry.models import Issuance
from tests.sidecar.conftest import make_event, pilot_spec, post_event, put_spec, signed

PLUGIN_STATUS = Path(__file__).resolve().parents[2] / "moodle_plugin" / "classes" / "local" / "status.php"


def plugin_names() -> set[str]:
    source = PLUGIN_STATUS.read_text(encoding="utf-8")
    constants = dict(re.findall(r"public const ([A-Z_]+) = '([a-z]+)';", source))
    listed = re.search(r"SIDECAR_NAMES = \[([^\]]*)\]", source).group(1)
    return {constants[name] for name in re.findall(r"self::([A-Z_]+)", listed)}


def test_an_issuance_being_sealed_is_queued_to_moodle(client, ctx):
    assert plugin_names() == {"queued", "issued", "delivered", "failed", "revoked", "parked"}
    put_spec(client, 1, pilot_spec())
    event = make_event(1)
    first = post_event(client, event).json
    with ctx.registry.transaction() as session:
        session.execute(update(Issuance).where(Issuance.id == first["issuance_id"]).values(status="sealing"))
    again = post_event(client, event).json
    assert again["duplicate"] is True and again["status"] == "queued"
    listing = client.get("/api/v1/issuances?site=demo&course=1",
                         headers=signed("GET", "/api/v1/issuances", query="site=demo&course=1")).json
    assert {item["status"] for item in listing["issuances"]} == {"queued"}
    assert {again["status"]} | {item["status"] for item in listing["issuances"]} <= plugin_names()
