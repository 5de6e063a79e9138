"""`edc-hsm status`: what is on the token, in a form a security officer can read (or as JSON)."""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from pkcs11 import Attribute, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11x

from hsm import objects
from hsm.objects import name_text
from hsm.config import TokenConfig
from hsm.errors import HsmError
from hsm.token import load_module, token_handle


def token_status(config: TokenConfig, *, now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(dt.timezone.utc)
    module = load_module(config)
    lib = module.lib
    report: dict = {
        "module": config.module,
        "library": f"{lib.manufacturer_id} {lib.library_description} {'.'.join(map(str, lib.library_version))}",
        "slots": [], "token": config.token_label, "logged_in": False, "keys": [], "certificates": [],
        "active_seal": None, "error": None,
    }
    with module.lock:
        for slot in lib.get_slots():
            entry = {"slot": slot.slot_id, "description": slot.slot_description.strip(), "token": None}
            try:
                token = slot.get_token()
                if token.flags & TokenFlag.TOKEN_INITIALIZED:
                    entry["token"] = token.label
                    entry["serial"] = token.serial.decode(errors="replace").strip() if isinstance(token.serial, bytes) \
                        else str(token.serial).strip()
            except p11x.PKCS11Error:
                pass
            report["slots"].append(entry)
    handle = token_handle(config)
    try:
        with handle.lock:
            session = handle.ensure_session()
            report["logged_in"] = True
            _describe_objects(session, report, now)
    except HsmError as exc:
        report["error"] = str(exc)
    return report


def _describe_objects(session, report: dict, now: dt.datetime) -> None:
    report["active_seal"] = objects.active_label(session)
    for label in objects.seal_labels(session):
        key = objects.private_key(session, label)
        entry = {"label": label, "id": bytes(key[Attribute.ID]).hex(), "algorithm": None,
                 "sensitive": bool(key[Attribute.SENSITIVE]), "extractable": bool(key[Attribute.EXTRACTABLE]),
                 "certificate_not_after": None, "active": label == report["active_seal"]}
        try:
            spki = objects.public_key_der(objects.public_key_object(session, label))
            entry["algorithm"] = objects.algorithm_name(objects.serialization.load_der_public_key(spki))
            cert, chain = objects.leaf_and_chain(session, bytes(key[Attribute.ID]), spki)
            if cert is not None:
                entry["certificate_not_after"] = cert.not_valid_after_utc.isoformat()
                entry["certificate_valid_now"] = cert.not_valid_before_utc <= now < cert.not_valid_after_utc
                entry["chain_length"] = len(chain)
        except HsmError as exc:
            entry["problem"] = str(exc)
        report["keys"].append(entry)
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        cert = x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
        report["certificates"].append({
            "label": obj[Attribute.LABEL], "id": bytes(obj[Attribute.ID]).hex(),
            "subject": name_text(cert.subject), "issuer": name_text(cert.issuer),
            "not_before": cert.not_valid_before_utc.isoformat(), "not_after": cert.not_valid_after_utc.isoformat(),
        })


def format_status(report: dict) -> str:
    lines = [f"module:      {report['module']}", f"library:     {report['library']}", "slots:"]
    for slot in report["slots"]:
        token = f"token '{slot['token']}' serial {slot.get('serial', '?')}" if slot["token"] else "no initialised token"
        lines.append(f"  {slot['slot']}: {token}")
    lines.append(f"token:       {report['token']}  ({'logged in' if report['logged_in'] else 'NOT logged in'})")
    if report["error"]:
        lines.append(f"problem:     {report['error']}")
    lines.append(f"active seal: {report['active_seal'] or 'none (run edc-hsm activate --label L)'}")
    lines.append("keys:")
    if not report["keys"]:
        lines.append("  (none)")
    for key in report["keys"]:
        flags = ("sensitive" if key["sensitive"] else "NOT SENSITIVE") + ", " + \
                ("EXTRACTABLE" if key["extractable"] else "not extractable")
        expiry = key["certificate_not_after"] or "no certificate yet"
        mark = "*" if key["active"] else " "
        lines.append(f" {mark}{key['label']:<20} {key['algorithm'] or '?':<8} cert until {expiry}  [{flags}]")
    lines.append("certificates:")
    for cert in report["certificates"] or []:
        lines.append(f"  {cert['label']}: {cert['subject']}  (until {cert['not_after']})")
    if not report["certificates"]:
        lines.append("  (none)")
    return "\n".join(lines)
