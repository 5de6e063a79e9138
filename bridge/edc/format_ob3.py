"""Open Badges 3.0 (an OpenBadgeCredential secured as a VC-JWT on the HSM), as one entry of bridge/edc/formats.py.

The pieces live in bridge/edc/ob3.py (the mapping of the micro-credential, the VC-JWT, the check).
An Open Badge has no place for a time-stamp or validation data: it is sealed at B-B whatever
EDC_SEAL_LEVEL says, and raising its level leaves it as it is (said in the verifier's notes).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Sequence

from bridge.edc.formats import BOM_AND_SPACE, Checks, CredentialFormat

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.model import Credential
    from bridge.edc.report import VerificationReport
    from hsm.signer import SealKey

_LOOKS_LIKE_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class Ob3Format(CredentialFormat):
    name = "ob3-vcjwt"
    label = "Open Badges 3.0 (VC-JWT)"
    media_type = "application/vc+jwt"
    extension = "jwt"
    carries_status = True

    def detect(self, data: bytes) -> bool:
        """A compact JWS whose header is JSON (base64url of '{"' is 'eyJ'); no '~', so never an SD-JWT."""
        return bool(_LOOKS_LIKE_JWT.fullmatch(data.strip(BOM_AND_SPACE)[:4 * 1024 * 1024]))

    def build(self, credential: "Credential") -> bytes:
        from bridge.edc import jws, ob3

        return jws.canonical_json(ob3.build_ob3(credential))

    def issue(self, credential: "Credential", seal: "SealKey", *, checks: Checks,
              signing_time: dt.datetime | None = None, **seal_options: Any) -> bytes:
        from bridge.edc.ob3 import issue_ob3

        return issue_ob3(credential, seal, signing_time=signing_time, schema=checks.ob3_schema)

    def raise_level(self, data: bytes, settings: Any, revocation_source: Any = None,
                    anchors: Sequence["x509.Certificate"] = ()) -> bytes:
        return data  # a VC-JWT has nowhere to carry a time-stamp or validation data

    def verify(self, data: bytes, *, trust_anchors: Sequence["x509.Certificate"], checks: Checks,
               now: dt.datetime | None = None) -> "VerificationReport":
        from bridge.edc.ob3 import verify_ob3

        return verify_ob3(data, trust_anchors=trust_anchors, now=now, schema=checks.ob3_schema)

    def read(self, data: bytes) -> Any:
        """The Open Badges credential (the JWT's payload) as a JSON object."""
        from bridge.edc.ob3 import Ob3Error, parse

        try:
            return parse(data)[1]
        except Ob3Error as exc:
            raise ValueError(f"not a sealed Open Badges credential: {exc}") from None

    def summarise(self, data: bytes) -> dict[str, Any]:
        from bridge.edc.ob3 import summarize

        return summarize(self.read(data))

    def skipped_check(self, checks: Checks) -> str | None:
        if checks.ob3_schema is not None:
            return None
        return ("the Open Badges 3.0 JSON Schema check was skipped (EDC_OB3_SCHEMA is not set; the project's "
                "tests check every badge against 1EdTech's schema)")

    def dictionary_seed(self, placeholder: "Credential", sealed: bytes) -> bytes:
        """The course's badge for a placeholder learner, as it is stored (base64url JSON), then the
        sealed badge's header (the certificate chain) and signature: no person in either."""
        from bridge.edc import jws, ob3

        payload = jws.b64url(self.build(placeholder))
        return payload.encode("ascii") + b"\n" + ob3.header_and_signature(sealed)

    def status_url(self, data: bytes) -> str | None:
        try:
            status = self.read(data).get("credentialStatus")
        except ValueError:
            return None
        return status.get("id") if isinstance(status, dict) and isinstance(status.get("id"), str) else None


FORMAT = Ob3Format()
