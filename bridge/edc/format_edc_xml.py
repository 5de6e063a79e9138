"""EDC v1 XML (XAdES-sealed `europassCredential`), as one entry of bridge/edc/formats.py.

The pieces live where they always did (xml_builder, issuer, xades, ltv, xml_reader, verifier); this
module only says which piece does what, so the rest of the product never asks "is it XML?".
EDC v1 XML has no field naming a status resource: only the issuer's registry knows of a revocation.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Sequence

from bridge.edc.formats import Checks, CredentialFormat, first_byte

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.model import Credential
    from bridge.edc.report import VerificationReport
    from hsm.signer import SealKey


class EdcXmlFormat(CredentialFormat):
    name = "edc-xml"
    label = "EDC v1 XML"
    aliases = ("edc-xml-v1",)
    media_type = "application/xml"
    extension = "xml"
    carries_status = False

    def detect(self, data: bytes) -> bool:
        return first_byte(data) == b"<"

    def build(self, credential: "Credential") -> bytes:
        from bridge.edc.xml_builder import build_edc_xml

        return build_edc_xml(credential)

    def issue(self, credential: "Credential", seal: "SealKey", *, checks: Checks,
              signing_time: dt.datetime | None = None, **seal_options: Any) -> bytes:
        from bridge.edc.issuer import issue_edc_xml

        return issue_edc_xml(credential, seal, schema=checks.schema, signing_time=signing_time, **seal_options)

    def raise_level(self, data: bytes, settings: Any, revocation_source: Any = None,
                    anchors: Sequence["x509.Certificate"] = ()) -> bytes:
        from bridge.edc import ltv

        seal = self.long_term(data)
        ltv.raise_to_level(seal, settings, revocation_source, anchors)
        return seal.render()

    def long_term(self, data: bytes) -> Any:
        from bridge.edc.xades_ltv import XadesLongTerm

        return XadesLongTerm(self.read(data).getroot())

    def verify(self, data: bytes, *, trust_anchors: Sequence["x509.Certificate"], checks: Checks,
               now: dt.datetime | None = None) -> "VerificationReport":
        from bridge.edc.verifier import verify_edc_xml

        return verify_edc_xml(data, trust_anchors=trust_anchors, schema=checks.schema, now=now,
                              tsa_anchors=checks.tsa_anchors)

    def read(self, data: bytes) -> Any:
        from lxml import etree

        from bridge.edc.schema_check import UnsafeXmlError, safe_parse

        try:
            return safe_parse(data)
        except (UnsafeXmlError, etree.XMLSyntaxError) as exc:
            raise ValueError(f"not a well-formed, safe XML document: {exc}") from None

    def summarise(self, data: bytes) -> dict[str, Any]:
        from bridge.edc import xml_reader

        return xml_reader.summarize(self.read(data))

    def skipped_check(self, checks: Checks) -> str | None:
        if checks.schema is None:
            return "the EDC schema check was skipped (set EDC_SCHEMA_DIR to the official schema folder)"
        return None

    def dictionary_seed(self, placeholder: "Credential", sealed: bytes) -> bytes:
        seed = self.build(placeholder)
        start, end = sealed.find(b"<proof"), sealed.rfind(b"</proof>")
        if start >= 0 and end > start:
            seed += b"\n" + sealed[start:end + len(b"</proof>")]
        return seed


FORMAT = EdcXmlFormat()
