"""OpenID for Verifiable Credential Issuance 1.0, the parts that are pure data: the issuer's metadata, the
credential offer, and the check of a wallet's key proof (`jwt` proof type, OpenID4VCI 1.0 §F.1).

The HTTP endpoints are bridge/api/openid4vci.py; the offers' state lives in bridge/registry/wallet.py.
Two credential configurations are offered: the SD-JWT VC learning credential (bridge/edc/sd_jwt_vc.py)
and the Open Badges 3.0 credential as `jwt_vc_json` (bridge/edc/ob3.py), both signed on the HSM.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from bridge.edc import jws, ob3, sd_jwt_vc
from bridge.edc.jws import CompactJws, JwsError

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
SD_JWT_CONFIGURATION = "learning_credential_sd_jwt"
OB3_CONFIGURATION = "open_badge_jwt_vc_json"
CONFIGURATIONS = (SD_JWT_CONFIGURATION, OB3_CONFIGURATION)
PROOF_ALGS = ("ES256", "ES384", "ES512", "RS256", "PS256")
PROOF_MAX_AGE = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(seconds=60)


class ProofError(ValueError):
    """A key proof that does not prove what it must; the message says which part fails (invalid_proof)."""


def _display(en: str, lt: str) -> list[dict[str, str]]:
    return [{"name": en, "locale": "en"}, {"name": lt, "locale": "lt"}]


def credential_configurations(signing_alg: str) -> dict[str, Any]:
    """`credential_configurations_supported`: what the issuer hands out and how a wallet proves its key."""
    proof = {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}}
    return {
        SD_JWT_CONFIGURATION: {
            "format": "dc+sd-jwt", "vct": sd_jwt_vc.VCT, "scope": SD_JWT_CONFIGURATION,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": [signing_alg],
            "proof_types_supported": proof,
            "credential_metadata": {
                "display": _display("Micro-credential (EU learning credential)",
                                    "Mikrokredencialas (ES mokymosi kredencialas)"),
                "claims": sd_jwt_vc.metadata_claims(),
            },
        },
        OB3_CONFIGURATION: {
            "format": "jwt_vc_json", "scope": OB3_CONFIGURATION,
            "credential_definition": {"type": ["VerifiableCredential", "OpenBadgeCredential"]},
            "cryptographic_binding_methods_supported": ["did:jwk"],
            "credential_signing_alg_values_supported": [signing_alg],
            "proof_types_supported": proof,
            "credential_metadata": {"display": _display("Micro-credential (Open Badge 3.0)",
                                                        "Mikrokredencialas (Open Badge 3.0)")},
        },
    }


def issuer_metadata(issuer: str, signing_alg: str, organisation: str | None = None) -> dict[str, Any]:
    """The Credential Issuer Metadata (OpenID4VCI 1.0 §12.2); the issuer is its own authorisation server."""
    display = [{"name": organisation, "locale": "en"}] if organisation else []
    metadata: dict[str, Any] = {
        "credential_issuer": issuer,
        "credential_endpoint": f"{issuer}/oid4vci/credential",
        "nonce_endpoint": f"{issuer}/oid4vci/nonce",
        "credential_configurations_supported": credential_configurations(signing_alg),
    }
    if display:
        metadata["display"] = display
    return metadata


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 metadata of the token endpoint: only the pre-authorised code grant, no client authentication."""
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oid4vci/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "response_types_supported": ["token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(issuer: str, configuration: str, pre_authorized_code: str, tx_code_length: int,
                     description: str) -> dict[str, Any]:
    """The Credential Offer (§4.1.1) with a pre-authorised code that needs a numeric transaction code."""
    return {
        "credential_issuer": issuer,
        "credential_configuration_ids": [configuration],
        "grants": {PRE_AUTHORIZED_GRANT: {
            "pre-authorized_code": pre_authorized_code,
            "tx_code": {"input_mode": "numeric", "length": tx_code_length, "description": description},
        }},
    }


@dataclass(frozen=True)
class ProvenKey:
    """What a valid key proof establishes: the holder's public JWK and the nonce it answered."""

    jwk: dict[str, str]
    nonce: str

    @property
    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, hex): how the audit trail names the holder's key."""
        required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[self.jwk["kty"]]
        return hashlib.sha256(jws.canonical_json({k: self.jwk[k] for k in required})).hexdigest()


def check_jwt_proof(proof: Any, *, audience: str, now: dt.datetime) -> ProvenKey:
    """The wallet's `jwt` key proof: typ openid4vci-proof+jwt, an asymmetric alg, the holder's key as a
    public `jwk` in the header that verifies the signature, `aud` this issuer, `iat` just now and a
    `nonce`. Whether the nonce is one of ours and unused is the caller's to check (the registry)."""
    try:
        token = CompactJws.parse(proof, "the key proof")
        if token.header.get("typ") != PROOF_TYP:
            raise ProofError(f"the key proof's typ is {token.header.get('typ')!r}, not {PROOF_TYP!r}")
        if token.alg not in PROOF_ALGS:
            raise ProofError(f"the key proof's alg {token.alg} is not one of {', '.join(PROOF_ALGS)}")
        if "jwk" not in token.header:
            raise ProofError("the key proof must carry the holder's public key as 'jwk' (kid and x5c are not "
                             "supported here)")
        key = jws.public_key_from_jwk(token.header["jwk"])
        if not jws.signature_holds(token, key):
            raise ProofError("the key proof is not signed by the key it carries")
        claims = token.claims("the key proof's payload")
        issued = jws.numeric_date(claims.get("iat"), "iat")
    except JwsError as exc:
        raise ProofError(str(exc)) from None
    audiences = claims.get("aud")
    if (audiences if isinstance(audiences, list) else [audiences]) != [audience]:
        raise ProofError(f"the key proof is for {audiences!r}, not for this issuer ({audience})")
    if not now - PROOF_MAX_AGE <= issued <= now + CLOCK_SKEW:
        raise ProofError("the key proof was not made just now (its iat is too old or in the future)")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ProofError("the key proof carries no nonce; get one from the nonce endpoint")
    return ProvenKey(jws.public_jwk(token.header["jwk"]), nonce)


def holder_credential(configuration: str, credential: Any, seal: Any, *, issuer: str, holder: ProvenKey,
                      status_url: str | None, now: dt.datetime, ob3_schema: Any = None) -> str:
    """The credential a wallet receives, bound to the key it proved, signed on the token (an Open Badge
    checked against 1EdTech's schema first when `ob3_schema`, bridge/edc/ob3_schema.Ob3Schema, is given)."""
    if configuration == SD_JWT_CONFIGURATION:
        status = {"edc_status": {"uri": status_url}} if status_url else None
        return sd_jwt_vc.issue_sd_jwt_vc(credential, seal, issuer=issuer, holder_jwk=holder.jwk, status=status,
                                         now=now)
    if configuration == OB3_CONFIGURATION:
        return ob3.issue_ob3(credential, seal, holder_jwk=holder.jwk, status_url=status_url,
                             signing_time=now, schema=ob3_schema).decode("ascii")
    raise ValueError(f"{configuration!r} is not a credential configuration of this issuer")

