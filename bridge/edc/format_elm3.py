"""ELM v3 JSON-LD sealed with JAdES (what Europass wallets take), as one entry of bridge/edc/formats.py.

The pieces: elm3_builder (the JSON-LD), shacl_check (the EU's shapes), jades (seal and check),
ltv (B-T/B-LT), elm3_issuer (build -> shapes -> seal), status (its credentialStatus).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Sequence

from bridge.edc.formats import Checks, CredentialFormat, first_byte

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.model import Credential
    from bridge.edc.report import VerificationReport
    from hsm.signer import SealKey


class Elm3Format(CredentialFormat):
    name = "elm3-jsonld"
    label = "ELM v3 JSON-LD"
    aliases = ("elm-v3-jsonld",)
    media_type = "application/ld+json"
    extension = "json"
    carries_status = True

    def detect(self, data: bytes) -> bool:
        return first_byte(data) == b"{"

    def build(self, credential: "Credential") -> bytes:
        from bridge.edc.elm3_builder import build_elm3, serialize_elm3

        return serialize_elm3(build_elm3(credential))

    def issue(self, credential: "Credential", seal: "SealKey", *, checks: Checks,
              signing_time: dt.datetime | None = None, **seal_options: Any) -> bytes:
        from bridge.edc.elm3_issuer import issue_elm3

        return issue_elm3(credential, seal, shapes=checks.shapes, signing_time=signing_time, **seal_options)

    def raise_level(self, data: bytes, settings: Any, revocation_source: Any = None,
                    anchors: Sequence["x509.Certificate"] = ()) -> bytes:
        from bridge.edc import ltv

        seal = self.long_term(data)
        ltv.raise_to_level(seal, settings, revocation_source, anchors)
        return seal.render()

    def long_term(self, data: bytes) -> Any:
        from bridge.edc import jades

        return jades.long_term(jades.JadesDocument.parse(data))

    def verify(self, data: bytes, *, trust_anchors: Sequence["x509.Certificate"], checks: Checks,
               now: dt.datetime | None = None) -> "VerificationReport":
        from bridge.edc.jades import verify_jades

        return verify_jades(data, trust_anchors=trust_anchors, shapes=checks.shapes, now=now,
                            tsa_anchors=checks.tsa_anchors)

    def read(self, data: bytes) -> Any:
        """The sealed JSON-LD credential (the JWS payload) as a JSON object."""
        from bridge.edc.jades import JadesDocument, JadesError

        try:
            payload = JadesDocument.parse(data).payload
            doc = json.loads(payload.decode("utf-8"))
        except (JadesError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"not a sealed ELM v3 credential: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError("not a sealed ELM v3 credential: the sealed content is not a JSON object")
        return doc

    def summarise(self, data: bytes) -> dict[str, Any]:
        from bridge.edc.jades import summarize

        return summarize(self.read(data))

    def skipped_check(self, checks: Checks) -> str | None:
        if checks.shapes is None:
            return "the EDC shapes check was skipped (set EDC_SHACL_DIR to the EU's v3_shacl folder)"
        return None

    def dictionary_seed(self, placeholder: "Credential", sealed: bytes) -> bytes:
        """The JWS as it is stored: the payload (an escaped JSON string) for a placeholder learner,
        then the seal's header and signature (algorithms and the certificate chain, no person)."""
        payload = self.build(placeholder).decode("utf-8")
        try:
            rest = {k: v for k, v in json.loads(sealed).items() if k != "payload"}
        except (ValueError, AttributeError):
            rest = {}
        return (json.dumps({"payload": payload}, ensure_ascii=False, separators=(",", ":")) +
                json.dumps(rest, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")

    def status_url(self, data: bytes) -> str | None:
        """The status resource the credential names (credentialStatus), if it names one."""
        from bridge.edc.status import status_url_of

        try:
            return status_url_of(self.read(data))
        except ValueError:
            return None


FORMAT = Elm3Format()
