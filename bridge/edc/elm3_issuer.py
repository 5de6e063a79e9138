"""Issue one sealed ELM v3 credential: build → EDC shapes check → JAdES seal on the token.

The ELM v3 counterpart of issuer.py (EDC v1 XML), with the same rule: a credential that fails the
official check is never sealed, since a seal on a malformed credential is a promise we cannot keep.
The check runs when the shapes are configured; by default they are taken from the environment
(EDC_SHACL_DIR, see shacl_check.py), so the worker, the CLI and the benchmarks behave alike.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bridge.edc.elm3_builder import build_elm3, serialize_elm3
from bridge.edc.jades import seal_jades
from bridge.edc.model import Credential
from bridge.edc.shacl_check import ElmShapes

if TYPE_CHECKING:
    from hsm.signer import SealKey


class _FromEnvironment:
    def __repr__(self) -> str:
        return "shapes from EDC_SHACL_DIR"


FROM_ENVIRONMENT: Any = _FromEnvironment()


def issue_elm3(
    credential: Credential,
    seal: "SealKey",
    *,
    shapes: ElmShapes | None = FROM_ENVIRONMENT,
    signing_time: dt.datetime | None = None,
    **seal_options: Any,
) -> bytes:
    """The sealed ELM v3 credential (JAdES JWS JSON) of `credential`.

    `shapes`: the EDC shapes to check against; by default those EDC_SHACL_DIR names (no check when it
    is not set); None skips the check. `seal_options` go to seal_jades (e.g. the B-T/B-LT settings).
    Raises shacl_check.ShapesViolation, naming every problem, before anything touches the token.
    """
    if shapes is FROM_ENVIRONMENT:
        shapes = ElmShapes.from_env()
    doc = build_elm3(credential)
    if shapes is not None:
        shapes.require(doc)
    return seal_jades(serialize_elm3(doc), seal, signing_time=signing_time or credential.issuance.issued_at,
                      **seal_options)
