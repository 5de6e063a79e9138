"""The status statement (bridge/edc/status.py): sealed on the token, believed only when its seal holds, is
trusted, is the credential's sealer's, is about this credential and is fresh; anything else is no answer."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

from bridge.edc import status
from bridge.edc.jades import JadesDocument
from bridge.edc.trust import describe
from hsm.signer import open_seal

CID = "urn:credential:6f1c3a52-0000-4000-8000-000000000001"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _judge(data: bytes, token, *, anchors=None, sealer=None, credential_id: str = CID, now: dt.datetime = NOW):
    seal = open_seal(token.config)
    return status.judge(data, credential_id, trust_anchors=anchors or [token.ca_cert],
                        sealer=sealer or describe(seal.certificate), now=now)


def test_a_statement_is_sealed_says_the_status_and_nothing_personal(ec_token):
    revoked = status.Standing(CID, NOW - dt.timedelta(hours=1), "issued-in-error", None)
    sealed = status.sealed_statement(revoked, open_seal(ec_token.config), NOW)
    said, problem = _judge(sealed, ec_token)
    assert problem is None
    assert said == {"type": "EDCCredentialStatus", "credential": CID, "status": "revoked",
                    "revoked": {"at": status.iso(NOW - dt.timedelta(hours=1)), "reason": "issued-in-error"},
                    "issued": status.iso(NOW), "validUntil": status.iso(NOW + status.VALID_FOR)}
    superseded = status.Standing(CID, NOW, None, "urn:credential:new")
    said, _ = _judge(status.sealed_statement(superseded, open_seal(ec_token.config), NOW), ec_token)
    assert said["revoked"]["reason"] == "superseded" and said["supersededBy"] == "urn:credential:new"
    active, _ = _judge(status.sealed_statement(status.Standing(CID), open_seal(ec_token.config), NOW), ec_token)
    assert active["status"] == "active" and "revoked" not in active


def test_a_statement_whose_seal_fails_is_no_answer(ec_token):
    sealed = status.sealed_statement(status.Standing(CID), open_seal(ec_token.config), NOW)
    document = JadesDocument.parse(sealed)
    document.payload = document.payload.replace(b'"active"', b'"revoked"')
    assert _judge(document.render(), ec_token)[1].startswith("its seal does not hold")
    assert _judge(b"<html>not found</html>", ec_token)[1]


def test_only_the_credentials_own_sealer_trusted_fresh_and_about_it_is_believed(ec_token, rsa_token):
    from .helpers import SoftSeal

    stranger = SoftSeal()  # trusted too (its certificate is an anchor), but not the credential's sealer
    other = status.sealed_statement(status.Standing(CID), stranger, NOW)
    both = [ec_token.ca_cert, stranger.certificate]
    assert "someone other than the credential's sealer" in _judge(other, ec_token, anchors=both)[1]
    own = status.sealed_statement(status.Standing(CID), open_seal(ec_token.config), NOW)
    assert "not trusted" in _judge(own, ec_token, anchors=[rsa_token.ca_cert])[1]
    assert "not a statement about this credential" in _judge(own, ec_token, credential_id=CID + "x")[1]
    stale = status.sealed_statement(status.Standing(CID), open_seal(ec_token.config), NOW - dt.timedelta(days=2))
    assert "stale" in _judge(stale, ec_token)[1]
    future = status.sealed_statement(status.Standing(CID), open_seal(ec_token.config), NOW + dt.timedelta(hours=1))
    assert "in the future" in _judge(future, ec_token)[1]


def test_the_verdict_says_checked_unreachable_or_not_offered(ec_token):
    from bridge.edc import formats, model

    from .helpers import COURSES, pilot_credential

    seal = open_seal(ec_token.config)
    url = "https://edc.example.test/status/6f1c3a52-0000-4000-8000-000000000000"
    credential = pilot_credential(COURSES[0])
    credential = dataclasses.replace(credential, issuance=dataclasses.replace(credential.issuance, status_url=url))
    elm3 = formats.get("elm3-jsonld").issue(credential, seal, checks=formats.Checks(), signing_time=NOW)
    assert json.loads(JadesDocument.parse(elm3).payload)["credentialStatus"] == {"@value": url, "@type": "xsd:anyURI"}
    answers: dict[str, bytes] = {}
    lookup = status.Lookup(fetch=lambda asked: answers[asked])

    def verdict(data: bytes):
        return formats.verify(data, trust_anchors=[ec_token.ca_cert], checks=formats.Checks(status=lookup))

    answers[url] = status.sealed_statement(status.Standing(credential.issuance.credential_id), seal)
    report = verdict(elm3)
    assert report.valid and report.revocation == "checked" and report.credential_status["status"] == "active", (report.problems, report.notes)
    answers[url] = status.sealed_statement(status.Standing(credential.issuance.credential_id, NOW, "withdrawn"), seal)
    report = verdict(elm3)
    assert not report.valid and report.revocation == "checked" and report.credential_status["status"] == "revoked"
    assert any("status resource says this credential was revoked" in p and "withdrawn" in p for p in report.problems)
    answers.clear()  # the issuer does not answer
    report = verdict(elm3)
    assert report.valid and report.revocation == "unreachable" and report.credential_status is None
    xml = formats.get("edc-xml").issue(model.Credential(credential.spec, credential.learner, credential.issuance),
                                       seal, checks=formats.Checks(), signing_time=NOW)
    report = verdict(xml)
    assert report.revocation == "not-offered" and any("no status field" in n for n in report.notes)
    assert report.as_dict()["revocation"] == "not-offered" and "Issuer's status resource: not-offered" in report.plain_words()
