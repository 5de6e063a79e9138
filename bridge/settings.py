"""The sidecar's configuration, read once from the environment names in DESIGN.md.

One frozen object is handed to every part of the service, so nothing else reads `os.environ` and a
test can build a whole app from a dictionary. Secrets (intake keys, PIN, staff token, SMTP and Moodle
credentials) are kept out of `repr`, so logging the settings never leaks them.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'registry.sqlite3'}"
# The names the HSM layer reads itself (hsm.config.TokenConfig.from_env); passed through unchanged.
TOKEN_ENV_NAMES = ("EDC_PKCS11_MODULE", "EDC_TOKEN_LABEL", "EDC_PIN_FILE", "EDC_PIN", "SOFTHSM2_CONF",
                   "EDC_DEMO_DIR", "EDC_TRUST_ANCHORS")
# The long-term seal level and its time-stamping authority (bridge/edc/ltv.py parses them).
SEAL_LEVEL_ENV_NAMES = ("EDC_SEAL_LEVEL", "EDC_TSA_URL", "EDC_TSA_POLICY", "EDC_TSA_TIMEOUT", "EDC_TSA_HASH")


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


def parse_intake_keys(text: str, origin: str) -> dict[str, str]:
    """`kid=secret;kid2=secret2` (also one pair per line in a file) -> {kid: secret}."""
    keys: dict[str, str] = {}
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part or part.startswith("#"):
            continue
        kid, sep, secret = part.partition("=")
        if not sep or not kid.strip() or not secret:
            raise SettingsError(f"{origin}: each entry must be key-id=secret (entry starting {kid[:12]!r} is not)")
        keys[kid.strip()] = secret
    return keys


def _check_mail_from(value: str) -> None:
    """EDC_MAIL_FROM as the mail writer will read it (bridge/delivery/messages.py): one plain ASCII address,
    with or without a display name; refused here so a typo stops the start, not every delivery."""
    from bridge.delivery.messages import from_header

    try:
        from_header(value)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def seal_level_settings(values: Mapping[str, str]):
    """The seal level settings (bridge.edc.ltv.SealLevelSettings) of EDC_SEAL_LEVEL and EDC_TSA_*;
    SettingsError naming the variable when one is wrong. Imported late: ltv is heavy, settings is not."""
    from bridge.edc.ltv import LtvConfigError, SealLevelSettings

    try:
        return SealLevelSettings.parse(values)
    except LtvConfigError as exc:
        raise SettingsError(str(exc)) from None


def _float(env: Mapping[str, str], name: str, default: float, unit: str = "seconds") -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of {unit}, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be more than 0")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def parse_rate(name: str, text: str) -> tuple[int, int]:
    """`10/15minutes` (the rate syntax EDC_VERIFY_RATE_LIMIT uses too) -> (10, 900): attempts per seconds."""
    from limits import parse

    try:
        item = parse(text)
    except ValueError:
        raise SettingsError(f"{name} must look like '10/15minutes' (attempts per period), not {text!r}") from None
    if item.amount < 1:
        raise SettingsError(f"{name} must allow at least 1 attempt per period")
    return item.amount, item.get_expiry()


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first when unset)."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _all_formats() -> tuple[str, ...]:
    from bridge.edc import formats

    return formats.names()


def _formats(text: str) -> tuple[str, ...]:
    """EDC_FORMATS: format names (or their old aliases), comma-separated; the first is the site default."""
    from bridge.edc import formats

    try:
        chosen = formats.parse_list(text)
    except formats.UnknownFormat as exc:
        raise SettingsError(f"EDC_FORMATS: {exc}") from None
    if not chosen:
        raise SettingsError(f"EDC_FORMATS: name at least one format ({', '.join(formats.names())})")
    return chosen


def _qdr_schema_dir(folder: str | None) -> str | None:
    """EDC_QDR_SCHEMA_DIR must hold loq.xsd: a wrong folder is refused at start, not at the first export."""
    if folder and not (Path(folder) / "loq.xsd").is_file():
        raise SettingsError(f"EDC_QDR_SCHEMA_DIR: {folder} holds no loq.xsd (the EU's QDR learning-opportunity schema)")
    return folder


def _ob3_schema(path: str | None) -> str | None:
    """EDC_OB3_SCHEMA names 1EdTech's JSON Schema file (or its folder): a wrong path is refused at start."""
    if not path:
        return None
    from bridge.edc.ob3_schema import Ob3Schema, Ob3SchemaNotFound

    try:
        Ob3Schema(path)
    except Ob3SchemaNotFound as exc:
        raise SettingsError(f"EDC_OB3_SCHEMA: {exc}") from None
    return path


def _api_tokens(env: Mapping[str, str]) -> dict[str, object]:
    """EDC_API_TOKENS and EDC_API_TOKENS_FILE (`name:role:secret` entries, bridge/staff/tokens.py)."""
    from bridge.staff import tokens

    found: dict[str, object] = {}
    try:
        if env.get("EDC_API_TOKENS_FILE"):
            path = Path(env["EDC_API_TOKENS_FILE"])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"EDC_API_TOKENS_FILE: cannot read {path}: {exc.strerror}") from None
            found.update(tokens.parse(text, "EDC_API_TOKENS_FILE"))
        if env.get("EDC_API_TOKENS"):
            found.update(tokens.parse(env["EDC_API_TOKENS"], "EDC_API_TOKENS"))
    except tokens.TokenConfigError as exc:
        raise SettingsError(str(exc)) from None
    return found


def _oidc_issuer(url: str | None) -> str | None:
    if not url:
        return None  # imported only when asked for: authlib's client costs a restart 0.16 s (issue 18)
    from bridge.staff.oidc import check_issuer_url

    try:
        return check_issuer_url(url)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    intake_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    smtp_url: str | None = field(default=None, repr=False)  # may carry a password
    mail_from: str = "credentials@localhost"
    moodle_url: str | None = None
    moodle_token: str | None = field(default=None, repr=False)
    schema_dir: str | None = None
    shacl_dir: str | None = None  # the EU's ELM v3 SHACL shapes (EDC_SHACL_DIR); None: no shapes check
    jsonld_context_dir: str | None = None  # where the two JSON-LD context files are (EDC_JSONLD_CONTEXT_DIR)
    shacl_check: str = "fast"  # EDC_SHACL_CHECK: fast (pyshacl's verdict in ms, bridge/edc/shacl_fast.py) | full
    qdr_schema_dir: str | None = None  # the EU's QDR schema folder, loq.xsd (EDC_QDR_SCHEMA_DIR); None: not checked
    token_env: Mapping[str, str] = field(default_factory=dict, repr=False)  # PIN inside
    trust_anchors: str | None = None
    tsa_trust_anchors: str | None = None  # EDC_TSA_TRUST_ANCHORS: the CAs whose TSAs are believed; None: trust_anchors
    seal_level_env: Mapping[str, str] = field(default_factory=dict, repr=False)  # EDC_SEAL_LEVEL, EDC_TSA_* (URL secret)
    archive_renewal_days: float = 90.0  # B-LTA: a new archive time-stamp this long before the newest TSA certificate expires
    archive_check_seconds: float = 21600.0  # how often the archive renewal job looks (EDC_ARCHIVE_CHECK_SECONDS)
    timestamp_retry_seconds: float = 300.0  # how often time-stamps left pending (seal-then-stamp) are tried again
    trusted_lists: str | None = None  # EDC_TRUSTED_LISTS: the EU List of Trusted Lists, a file or an https:// URL
    trusted_list_signers: str | None = None  # EDC_TRUSTED_LIST_SIGNERS: PEM of the certificates that may sign it
    trusted_lists_cache: str = str(REPO_ROOT / "var" / "trusted-lists")  # downloads of a URL's lists
    trusted_lists_refresh_seconds: float = 6 * 3600.0
    staff_token: str | None = field(default=None, repr=False)
    # Named staff (issue 15; bridge/staff/). API tokens: {sha256 of secret: NamedToken} from EDC_API_TOKENS(_FILE).
    api_tokens: Mapping[str, object] = field(default_factory=dict, repr=False)
    oidc_issuer: str | None = None  # EDC_OIDC_ISSUER: the university's identity provider; None: no OIDC login
    oidc_client_id: str | None = None  # EDC_OIDC_CLIENT_ID
    oidc_client_secret: str | None = field(default=None, repr=False)  # EDC_OIDC_CLIENT_SECRET
    oidc_role_claim: str | None = None  # EDC_OIDC_ROLE_CLAIM: the ID-token claim holding roles; None: assigned here
    oidc_username_claim: str = "email"  # EDC_OIDC_USERNAME_CLAIM: the claim the audit trail names the person by
    oidc_redirect_url: str | None = None  # EDC_OIDC_REDIRECT_URL; default <EDC_PUBLIC_URL>/staff/oidc/callback
    staff_session_minutes: float = 480.0  # EDC_STAFF_SESSION_MINUTES: a staff login lasts this long
    public_url: str = "http://127.0.0.1:8080"
    workers: int = 2
    worker_processes: int = 0  # 0: the threads run in the server process; N: in N child processes
    batch: int = 16  # rows a worker claims and stores (issuance) or records (delivery) per transaction
    max_delivery_attempts: int = 8
    security_contact: str | None = None
    formats: tuple[str, ...] = field(default_factory=lambda: _all_formats())  # every one; the first is the default
    max_body_bytes: int = 256 * 1024  # intake bodies: a course description is a few KB
    max_upload_bytes: int = 4 * 1024 * 1024  # verify uploads: official samples reach ~100 KB
    bulk_max_upload_bytes: int = 16 * 1024 * 1024  # a cohort spreadsheet (EDC_BULK_MAX_UPLOAD_BYTES); 10,000 rows ~ 0.5 MB
    bulk_max_unpacked_bytes: int = 64 * 1024 * 1024  # an XLSX's members, unpacked (EDC_BULK_MAX_UNPACKED_BYTES)
    bulk_max_rows: int = 20_000  # learner rows per file (EDC_BULK_MAX_ROWS); more is refused, not cut
    timestamp_window: int = 300
    verify_rate_limit: str = "30/minute"
    staff_auth_limit: str = "10/15minutes"  # failed staff logins + wrong Bearer tokens per client address
    lease_seconds: int = 120
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    email_pdf: bool = False  # attach the printable PDF to the email (~40 ms each; the page offers it anyway)
    wallet_offer_seconds: float = 900.0  # how long a wallet offer (OpenID4VCI pre-authorised code) can be redeemed
    wallet_tx_code_length: int = 6  # digits of the transaction code sent by the other channel
    wallet_tx_code_attempts: int = 3  # wrong transaction codes before an offer is locked for good
    wallet_tx_code_limit: str = "10/15minutes"  # wrong transaction codes per client address, over all offers
    wallet_in_mail: bool = False  # the credential mail carries an "Add to wallet" offer; its code is shown in Moodle
    wallet_mail_offer_days: float = 30.0  # how long the mailed offer can be redeemed (EDC_WALLET_MAIL_OFFER_DAYS)
    ob3_schema: str | None = None  # 1EdTech's OB3 JSON Schema file (EDC_OB3_SCHEMA); None: not checked, and said
    start_background: bool = True  # worker threads and the scheduler; tests may drive them by hand
    demo: bool = False

    @staticmethod
    def worker_processes_in(env: Mapping[str, str]) -> int:
        """EDC_WORKER_PROCESSES alone: `edc-bridge serve` spawns the worker processes before it parses
        the rest (bridge/worker_processes.py); SettingsError when it is not a whole number >= 0."""
        return _int(env, "EDC_WORKER_PROCESSES", 0, minimum=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        keys: dict[str, str] = {}
        if env.get("EDC_INTAKE_KEYS_FILE"):
            path = Path(env["EDC_INTAKE_KEYS_FILE"])
            try:
                keys.update(parse_intake_keys(path.read_text(encoding="utf-8"), "EDC_INTAKE_KEYS_FILE"))
            except OSError as exc:
                raise SettingsError(f"EDC_INTAKE_KEYS_FILE: cannot read {path}: {exc.strerror}") from None
        if env.get("EDC_INTAKE_KEYS"):
            keys.update(parse_intake_keys(env["EDC_INTAKE_KEYS"], "EDC_INTAKE_KEYS"))
        formats = _formats(env.get("EDC_FORMATS") or ",".join(_all_formats()))
        values = dict(
            database_url=env.get("EDC_DATABASE_URL") or DEFAULT_DATABASE_URL,
            intake_keys=keys,
            smtp_url=env.get("EDC_SMTP_URL") or None,
            mail_from=env.get("EDC_MAIL_FROM") or "credentials@localhost",
            moodle_url=env.get("EDC_MOODLE_URL") or None,
            moodle_token=env.get("EDC_MOODLE_TOKEN") or None,
            schema_dir=env.get("EDC_SCHEMA_DIR") or None,
            shacl_dir=env.get("EDC_SHACL_DIR") or None,
            jsonld_context_dir=env.get("EDC_JSONLD_CONTEXT_DIR") or None,
            shacl_check=_choice(env, "EDC_SHACL_CHECK", ("fast", "full")),
            qdr_schema_dir=_qdr_schema_dir(env.get("EDC_QDR_SCHEMA_DIR") or None),
            token_env={k: env[k] for k in TOKEN_ENV_NAMES if env.get(k)},
            trust_anchors=env.get("EDC_TRUST_ANCHORS") or None,
            tsa_trust_anchors=env.get("EDC_TSA_TRUST_ANCHORS") or None,
            seal_level_env={k: env[k] for k in SEAL_LEVEL_ENV_NAMES if env.get(k)},
            archive_renewal_days=_float(env, "EDC_ARCHIVE_RENEWAL_DAYS", 90.0, unit="days"),
            archive_check_seconds=_float(env, "EDC_ARCHIVE_CHECK_SECONDS", 21600.0),
            timestamp_retry_seconds=_float(env, "EDC_TIMESTAMP_RETRY_SECONDS", 300.0),
            trusted_lists=env.get("EDC_TRUSTED_LISTS") or None,
            trusted_list_signers=env.get("EDC_TRUSTED_LIST_SIGNERS") or None,
            trusted_lists_cache=env.get("EDC_TRUSTED_LISTS_CACHE") or str(REPO_ROOT / "var" / "trusted-lists"),
            trusted_lists_refresh_seconds=_float(env, "EDC_TRUSTED_LISTS_REFRESH_SECONDS", 6 * 3600.0),
            staff_token=env.get("EDC_STAFF_TOKEN") or None,
            api_tokens=_api_tokens(env),
            oidc_issuer=_oidc_issuer(env.get("EDC_OIDC_ISSUER") or None),
            oidc_client_id=env.get("EDC_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("EDC_OIDC_CLIENT_SECRET") or None,
            oidc_role_claim=env.get("EDC_OIDC_ROLE_CLAIM") or None,
            oidc_username_claim=env.get("EDC_OIDC_USERNAME_CLAIM") or "email",
            oidc_redirect_url=env.get("EDC_OIDC_REDIRECT_URL") or None,
            staff_session_minutes=_float(env, "EDC_STAFF_SESSION_MINUTES", 480.0, unit="minutes"),
            public_url=(env.get("EDC_PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/"),
            workers=_int(env, "EDC_WORKERS", 2),
            worker_processes=cls.worker_processes_in(env),
            batch=_int(env, "EDC_BATCH", 16),
            max_delivery_attempts=_int(env, "EDC_MAX_DELIVERY_ATTEMPTS", 8),
            security_contact=env.get("EDC_SECURITY_CONTACT") or None,
            formats=formats,
            lease_seconds=_int(env, "EDC_LEASE_SECONDS", 120),
            retry_base_seconds=_float(env, "EDC_RETRY_BASE_SECONDS", 5.0),
            retry_max_seconds=_float(env, "EDC_RETRY_MAX_SECONDS", 3600.0),
            verify_rate_limit=env.get("EDC_VERIFY_RATE_LIMIT") or "30/minute",
            staff_auth_limit=env.get("EDC_STAFF_AUTH_LIMIT") or "10/15minutes",
            wallet_offer_seconds=_float(env, "EDC_WALLET_OFFER_SECONDS", 900.0),
            wallet_tx_code_length=_int(env, "EDC_WALLET_TX_CODE_LENGTH", 6, minimum=4),
            wallet_tx_code_attempts=_int(env, "EDC_WALLET_TX_CODE_ATTEMPTS", 3),
            wallet_tx_code_limit=env.get("EDC_WALLET_TX_CODE_LIMIT") or "10/15minutes",
            wallet_in_mail=(env.get("EDC_WALLET_IN_MAIL") or "0").lower() in ("1", "true", "yes", "on"),
            wallet_mail_offer_days=_float(env, "EDC_WALLET_MAIL_OFFER_DAYS", 30.0, unit="days"),
            ob3_schema=_ob3_schema(env.get("EDC_OB3_SCHEMA") or None),
            bulk_max_upload_bytes=_int(env, "EDC_BULK_MAX_UPLOAD_BYTES", 16 * 1024 * 1024, minimum=1024),
            bulk_max_unpacked_bytes=_int(env, "EDC_BULK_MAX_UNPACKED_BYTES", 64 * 1024 * 1024, minimum=1024),
            bulk_max_rows=_int(env, "EDC_BULK_MAX_ROWS", 20_000),
            email_pdf=(env.get("EDC_EMAIL_PDF") or env.get("EDC_MAIL_PDF") or "0").lower() in ("1", "true", "yes", "on"),
        )
        values.update(overrides)
        seal_level_settings(values["seal_level_env"])  # a wrong level or TSA setting is refused at start
        parse_rate("EDC_STAFF_AUTH_LIMIT", values["staff_auth_limit"])  # refused at start, not at the first failure
        _check_mail_from(values["mail_from"])  # refused at start, not at the first mail
        if values["oidc_issuer"] and not (values["oidc_client_id"] and values["oidc_client_secret"]):
            raise SettingsError("EDC_OIDC_ISSUER is set: EDC_OIDC_CLIENT_ID and EDC_OIDC_CLIENT_SECRET are needed too")
        parse_rate("EDC_WALLET_TX_CODE_LIMIT", values["wallet_tx_code_limit"])
        if values["wallet_tx_code_length"] > 12:
            raise SettingsError("EDC_WALLET_TX_CODE_LENGTH must be at most 12 (wallets ask people to type it)")
        return cls(**values)

    @property
    def oidc(self):
        """The identity provider's configuration (bridge.staff.oidc.OidcConfig), or None without one."""
        if not (self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret):
            return None
        from bridge.staff.oidc import OidcConfig

        return OidcConfig(self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret,
                          self.oidc_redirect_url or f"{self.public_url}/staff/oidc/callback",
                          self.oidc_role_claim, self.oidc_username_claim)

    @property
    def staff_auth_budget(self) -> tuple[int, int]:
        """(failed attempts, window in seconds) allowed per client address on the staff credential."""
        return parse_rate("EDC_STAFF_AUTH_LIMIT", self.staff_auth_limit)

    @property
    def wallet_tx_code_budget(self) -> tuple[int, int]:
        """(wrong transaction codes, window in seconds) allowed per client address, over all offers."""
        return parse_rate("EDC_WALLET_TX_CODE_LIMIT", self.wallet_tx_code_limit)

    @property
    def seal_level(self):
        """The level credentials are sealed at and the TSA (bridge.edc.ltv.SealLevelSettings)."""
        return seal_level_settings(self.seal_level_env)

    @property
    def channels(self) -> tuple[str, ...]:
        """Delivery channels in use: those whose endpoint is configured."""
        return tuple(name for name, on in (("email", self.smtp_url), ("moodle", self.moodle_url)) if on)
