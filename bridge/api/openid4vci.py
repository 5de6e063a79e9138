"""OpenID4VCI 1.0 issuer endpoints: metadata, the wallet offer, the token, nonce and credential endpoints.

    POST /api/v1/credentials/{id}/wallet-offer   staff token, or Moodle's signed call for the learner's own
    GET  /.well-known/openid-credential-issuer   credential issuer metadata
    GET  /.well-known/oauth-authorization-server token endpoint metadata (pre-authorised code only)
    GET  /oid4vci/offers/{token}                 the credential offer a QR code / link points at
    POST /oid4vci/token                          pre-authorised code + transaction code -> access token
    POST /oid4vci/nonce                          a fresh c_nonce for the key proof
    POST /oid4vci/credential                     access token + key proof -> the credential

The protocol's own answers (RFC 6749 §5.2, OpenID4VCI §8.3.1.2) are `{"error", "error_description"}`;
here they also carry the project's `problems` list naming the field at fault. Offers, tokens and nonces
are kept in the registry (bridge/registry/wallet.py); every step is audited there.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from bridge.api.errors import ApiError, problem
from bridge.staff import roles
from bridge.api.security import context, moodle_signed, moodle_signed_or_staff
from bridge.edc import jws, oid4vci
from bridge.edc.ob3_schema import Ob3SchemaViolation
from bridge.intake.auth import AuthError, claim_nonce
from bridge.registry import staff_access, wallet
from bridge.worker import wallet as wallet_service
from bridge.worker.context import Conflict, NotFound

bp = Blueprint("openid4vci", __name__)
CREDENTIAL_PREFIX = "urn:credential:"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _full_id(text: str) -> str:
    return text if text.startswith(CREDENTIAL_PREFIX) else CREDENTIAL_PREFIX + text


def oauth_error(code: str, description: str, status: int = 400, pointer: str = "",
                headers: dict[str, str] | None = None):
    body = jsonify({"error": code, "error_description": description,
                    "problems": [problem(pointer, description)]})
    body.status_code = status
    for name, value in {**NO_STORE, **(headers or {})}.items():
        body.headers[name] = value
    return body


def _signing_alg() -> str:
    from bridge.edc import jades

    return jades._algorithm_of(context().seals.current())


def _client() -> str:
    return (request.remote_addr or "")[:64]


# --- metadata -------------------------------------------------------------------------------------


@bp.get("/.well-known/openid-credential-issuer")
def issuer_metadata():
    ctx = context()
    return jsonify(oid4vci.issuer_metadata(wallet_service.issuer_url(ctx), _signing_alg()))


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    return jsonify(oid4vci.authorization_server_metadata(wallet_service.issuer_url(context())))


# --- the offer ------------------------------------------------------------------------------------


def _offer_body() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", [problem("", "send a JSON object (or nothing)")])
    problems = []
    channel = body.get("channel", "moodle")
    if channel not in wallet_service.CHANNELS:
        problems.append(problem("/channel", "must be 'moodle' (the offer is shown in Moodle, the code is mailed) "
                                            "or 'email' (the offer is mailed, the code is shown in Moodle)"))
    configuration = body.get("configuration", oid4vci.SD_JWT_CONFIGURATION)
    if configuration not in oid4vci.CONFIGURATIONS:
        problems.append(problem("/configuration", f"must be one of {', '.join(oid4vci.CONFIGURATIONS)}"))
    if problems:
        raise ApiError(400, "bad wallet offer request", problems)
    return body


def _moodle_may_offer(cred_id: str, body: dict[str, Any]) -> str:
    """Moodle asks for the learner's own credential: the body names the site and the learner, and they
    must be the credential's. Returns the audit actor. The request's nonce is spent here."""
    ctx = context()
    from bridge.registry.models import Credential

    try:
        with ctx.registry.transaction() as session:
            claim_nonce(session, g.intake_auth, ctx.settings.timestamp_window)
            cred = session.get(Credential, cred_id)
            owner = (cred.site_id, cred.learner_id) if cred is not None else None
    except AuthError as exc:
        raise ApiError(401, "request not authenticated", [problem(exc.field, str(exc))]) from None
    site, learner = body.get("site"), body.get("learner")
    if not isinstance(site, str) or not isinstance(learner, (str, int)) or isinstance(learner, bool):
        raise ApiError(400, "the learner is required", [problem("/learner", "Moodle names the site (/site) and the "
                                                                            "learner (/learner) asking")])
    if owner is None or owner != (site, str(learner)):
        raise ApiError(404, "no such credential of this learner",
                       [problem("/id", f"{cred_id} is not a credential of learner {learner} of site {site}")])
    return f"moodle:{g.intake_auth.key_id}"


@bp.post("/api/v1/credentials/<cred_id>/wallet-offer")
@moodle_signed_or_staff(roles.REGISTRAR)
def wallet_offer(cred_id: str):
    ctx, cred_id = context(), _full_id(cred_id)
    body = _offer_body()
    actor = getattr(g, "actor", None) if g.get("intake_auth") is None else _moodle_may_offer(cred_id, body)
    try:
        answer = wallet_service.make_offer(ctx, cred_id, channel=body.get("channel", "moodle"),
                                           configuration=body.get("configuration", oid4vci.SD_JWT_CONFIGURATION),
                                           actor=actor or "staff")
    except NotFound:
        raise ApiError(404, "no such credential", [problem("/id", f"{cred_id} is not in the registry")]) from None
    except wallet.CredentialNotOfferable as exc:
        raise ApiError(404 if exc.code == "not_found" else 409, str(exc), [problem("/id", str(exc))]) from None
    except Conflict as exc:
        raise ApiError(409, str(exc), [problem("/id", str(exc))]) from None
    except wallet_service.MailUnavailable as exc:
        raise ApiError(503, "the wallet offer could not be sent", [problem("/channel", str(exc))]) from None
    response = jsonify(answer)
    response.status_code = 201
    response.headers.update(NO_STORE)
    return response


@bp.post("/api/v1/credentials/<cred_id>/wallet-code")
@moodle_signed
def wallet_code(cred_id: str):
    """Moodle, for the learner logged in: a transaction code for the "Add to wallet" offer in the credential's
    mail (EDC_WALLET_IN_MAIL). Body {"site", "learner"}; the credential must be theirs (404 otherwise, and
    when no mailed offer is waiting). A new code replaces the one made before; it is shown, never stored."""
    ctx, cred_id = context(), _full_id(cred_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", [problem("", "send {\"site\", \"learner\"}")])
    actor = _moodle_may_offer(cred_id, body)
    try:
        answer = wallet_service.mail_tx_code(ctx, cred_id, f"{actor}:learner:{body['learner']}")
    except wallet.OfferRefused as exc:
        raise ApiError(exc.status, exc.reason, [problem("/id", exc.reason)]) from None
    response = jsonify(answer)
    response.headers.update(NO_STORE)
    return response


@bp.get("/oid4vci/offers/<token>")
def credential_offer(token: str):
    ctx = context()
    try:
        offer = wallet.open_offer(ctx.registry, token)
    except wallet.OfferRefused as exc:
        return oauth_error("invalid_request", exc.reason, exc.status, "/offer")
    body = wallet_service.credential_offer(ctx, wallet.pre_authorized_code(token), offer.configuration)
    response = jsonify(body)
    response.headers.update(NO_STORE)
    return response


# --- token and nonce ------------------------------------------------------------------------------


@bp.post("/oid4vci/token")
def token():
    ctx = context()
    form = request.form
    if form.get("grant_type") != oid4vci.PRE_AUTHORIZED_GRANT:
        return oauth_error("unsupported_grant_type", f"grant_type must be {oid4vci.PRE_AUTHORIZED_GRANT}", 400,
                           "grant_type")
    code = form.get("pre-authorized_code")
    if not code:
        return oauth_error("invalid_request", "pre-authorized_code is required", 400, "pre-authorized_code")
    settings = ctx.settings
    try:
        grant = wallet.redeem(ctx.registry, code, form.get("tx_code"), client=_client(),
                              budget=staff_access.Budget(*settings.wallet_tx_code_budget),
                              max_attempts=settings.wallet_tx_code_attempts,
                              access_lifetime=wallet_service.ACCESS_LIFETIME)
    except wallet.OfferRefused as exc:
        pointer = "tx_code" if "transaction code" in exc.reason or exc.code == "slow_down" else "pre-authorized_code"
        return oauth_error(exc.code, exc.reason, exc.status, pointer)
    response = jsonify({"access_token": grant.access_token, "token_type": "Bearer", "expires_in": grant.expires_in})
    response.headers.update(NO_STORE)
    return response


@bp.post("/oid4vci/nonce")
def nonce():
    value = wallet.new_nonce(context().registry, wallet_service.NONCE_LIFETIME)
    response = jsonify({"c_nonce": value, "c_nonce_expires_in": int(wallet_service.NONCE_LIFETIME.total_seconds())})
    response.headers.update(NO_STORE)
    return response


# --- the credential -------------------------------------------------------------------------------


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "dpop") and value.strip() else None


def _proof_of(body: dict[str, Any]) -> tuple[Any, str]:
    """The one `jwt` proof of the request (OpenID4VCI 1.0 `proofs`; the older single `proof` is read too)."""
    proofs = body.get("proofs")
    if isinstance(proofs, dict):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list):
            raise ValueError("/proofs: only the jwt proof type is supported, as a list")
        if len(jwts) != 1:
            raise ValueError("/proofs/jwt: send exactly one proof (one credential per offer)")
        return jwts[0], "/proofs/jwt/0"
    proof = body.get("proof")
    if isinstance(proof, dict) and proof.get("proof_type") == "jwt":
        return proof.get("jwt"), "/proof/jwt"
    raise ValueError("/proofs: a key proof is required ({\"proofs\": {\"jwt\": [\"...\"]}})")


@bp.post("/oid4vci/credential")
def credential():
    ctx = context()
    access_token = _bearer()
    if access_token is None:
        return oauth_error("invalid_token", "an access token is required (Authorization: Bearer ...)", 401,
                           "Authorization", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        offer = wallet.authorised_offer(ctx.registry, access_token)
    except wallet.OfferRefused as exc:
        return oauth_error(exc.code, exc.reason, exc.status, "Authorization",
                           {"WWW-Authenticate": f'Bearer error="{exc.code}"'})
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return oauth_error("invalid_credential_request", "the body must be a JSON object", 400, "")
    if body.get("credential_configuration_id") != offer.configuration:
        reason = f"this access token is for the credential configuration {offer.configuration}"
        wallet.audit_refused(ctx.registry, offer, "credential", "another credential configuration asked", _client())
        return oauth_error("unknown_credential_configuration", reason, 400, "/credential_configuration_id")
    try:
        proof, pointer = _proof_of(body)
    except ValueError as exc:
        pointer, _, reason = str(exc).partition(": ")
        return oauth_error("invalid_proof", reason, 400, pointer)
    try:
        holder = oid4vci.check_jwt_proof(proof, audience=wallet_service.issuer_url(ctx),
                                         now=wallet.utcnow())
    except oid4vci.ProofError as exc:
        wallet.audit_refused(ctx.registry, offer, "credential", f"key proof refused: {exc}", _client())
        return oauth_error("invalid_proof", str(exc), 400, pointer)
    try:
        issued = wallet_service.wallet_credential(ctx, offer, holder)
    except wallet.OfferRefused as exc:
        wallet.audit_refused(ctx.registry, offer, "credential", exc.reason, _client())
        return oauth_error(exc.code, exc.reason, exc.status, pointer if exc.code == "invalid_nonce" else "Authorization")
    except (Conflict, NotFound) as exc:
        wallet.audit_refused(ctx.registry, offer, "credential", str(exc), _client())
        return oauth_error("credential_request_denied", str(exc), 400, "/credential_configuration_id")
    except jws.JwsError as exc:
        return oauth_error("invalid_proof", str(exc), 400, pointer)
    except Ob3SchemaViolation as exc:  # our mapping is at fault, not the wallet: nothing was signed
        wallet.audit_refused(ctx.registry, offer, "credential", str(exc)[:500], _client())
        return oauth_error("server_error", str(exc), 500, "/credential_configuration_id")
    response = jsonify({"credentials": [{"credential": issued}]})
    response.headers.update(NO_STORE)
    return response
