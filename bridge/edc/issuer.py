"""Issue one sealed credential: build → schema check → seal → schema check again.

This is the only place that strings the credential steps together, so the CLI, the sidecar's
worker and the benchmarks all issue exactly the same way. A credential that fails the schema is
never sealed: a seal on an invalid document would be a promise we cannot keep.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bridge.edc import ltv, xades
from bridge.edc.model import Credential
from bridge.edc.schema_check import EdcSchema, safe_parse
from bridge.edc.xades_ltv import XadesLongTerm
from bridge.edc.xml_builder import build_edc_xml

if TYPE_CHECKING:
    from hsm.signer import SealKey


class SchemaViolation(ValueError):
    """The document we built does not follow the official schema: a bug or a description we mapped wrongly."""

    def __init__(self, stage: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"the {stage} credential does not follow the EDC schema: " + "; ".join(problems[:5]))


def _require_valid(schema: EdcSchema | None, data: bytes, stage: str) -> None:
    if schema is None:
        return
    problems = schema.problems(data)
    if problems:
        raise SchemaViolation(stage, problems)


def issue_edc_xml(
    credential: Credential,
    seal: "SealKey",
    *,
    schema: EdcSchema | None = None,
    signing_time: dt.datetime | None = None,
    tsa: "ltv.TsaClient | None" = None,
    level: str = "B-B",
    tsa_policy: str = "wait",
    revocation_source: "ltv.RevocationSource | None" = None,
) -> bytes:
    """The sealed EDC v1 XML of `credential`; with `schema` None the check is skipped (callers say so).

    `level` B-T/B-LT add a time-stamp from `tsa` (and B-LT the certificate and revocation values);
    when the TSA is down, `tsa_policy` "wait" raises TsaUnavailableError and "seal-then-stamp"
    raises ltv.TimestampPending carrying the B-B document (see bridge/edc/ltv.py).
    """
    unsigned = build_edc_xml(credential)
    _require_valid(schema, unsigned, "unsealed")
    root = safe_parse(unsigned).getroot()
    sealed_root = xades.seal_xml(root, seal, signing_time=signing_time or credential.issuance.issued_at)
    settings = ltv.SealLevelSettings(level=level, tsa=tsa, policy=tsa_policy)
    long_term = XadesLongTerm(sealed_root)  # B-T and above: bridge/edc/xades_ltv.py, policy in ltv.py
    pending = ltv.raise_to_level(long_term, settings, revocation_source, anchors=seal.chain)
    sealed = long_term.render()
    _require_valid(schema, sealed, "sealed")
    if pending:
        raise ltv.TimestampPending(sealed, pending, level)
    return sealed
