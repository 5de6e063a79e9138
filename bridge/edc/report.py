"""The verifier's verdict, one shape for every credential format and seal level.

Kept apart from the verifiers so the CLI, the HTTP API and the web pages all print the same thing,
and so a new format's verifier only has to fill this in.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

# The sentence a part of the verification that failed unexpectedly ends in (tests look for it).
UNCHECKED = "could not be checked"


@dataclass
class SealCheck:
    """What a seal itself proves, whatever its format, before anyone asks whether its certificate is trusted.

    The format fills it (xades.check_seal / jades.check_seal: integrity; xades_ltv / jades_ltv:
    time-stamps and the validation data the seal carries); trust.judge_seal decides on it, for
    both formats alike, and `VerificationReport.seal_outcome` takes the rest into the report.
    """

    intact: bool = False
    level: str | None = None  # the baseline level the unsigned properties claim: B-B, B-T, B-LT, B-LTA
    certificate: Any = None  # the seal certificate (cryptography x509.Certificate) once found
    chain: list = field(default_factory=list)  # the other certificates the seal carries
    signing_time: dt.datetime | None = None  # claimed by the sealer, in the signed properties
    timestamp_time: dt.datetime | None = None  # proven by a verified signature time-stamp (B-T and above)
    crls: list[bytes] = field(default_factory=list)  # readable revocation data the seal carries (B-LT)
    ocsps: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class VerificationReport:
    format: str | None = None  # "edc-xml" | "elm3-jsonld" | None when not recognised
    signature_intact: bool = False  # the seal's signature and every reference/payload digest match
    trusted: bool = False  # the seal certificate chains to a configured trust anchor, valid at sealing time
    schema_valid: bool | None = None  # None: the schema check was not configured, so not done
    sealed_at: str | None = None  # ISO 8601; from a verified time-stamp when there is one
    level: str | None = None  # "B-B" | "B-T" | "B-LT" | "B-LTA"
    learner: str | None = None
    title: str | None = None
    issuer: str | None = None
    credential_id: str | None = None
    ects: float | None = None
    eqf_level: int | None = None
    issued: str | None = None
    signer: str | None = None  # the seal certificate's subject, in RFC 4514 words
    problems: list[str] = field(default_factory=list)  # plain-language, one sentence each
    notes: list[str] = field(default_factory=list)  # what was checked and what was skipped
    revoked: bool | None = None  # filled by the registry, not by the file's own checks
    # The issuer's status resource (bridge/edc/status.py): checked | unreachable | not-offered; None: not
    # looked up. `credential_status` is what a checked statement said (no personal data in it).
    revocation: str | None = None
    credential_status: dict | None = None
    qualified: bool | None = None  # a qualified electronic seal per the EU trusted lists; None: unknown
    qualified_why: str | None = None  # why (bridge/edc/qualified.py), one sentence
    provider: str | None = None  # the trust service provider the national trusted list names
    provider_country: str | None = None  # that list's territory: LT, LV, ...
    # What the trust decision was made on, for the decisions taken after it (the qualified status);
    # not part of the verdict, so never in as_dict().
    seal_certificate: Any = field(default=None, repr=False, compare=False)
    judged_at: dt.datetime | None = field(default=None, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return (
            self.signature_intact
            and self.trusted
            and self.schema_valid is not False
            and not self.revoked
            and not self.problems
        )

    def problem(self, text: str) -> None:
        self.problems.append(text)

    @contextmanager
    def checking(self, part: str) -> Iterator[None]:
        """Run one part of the verification (`part` names it: "time-stamp", "certificate chain", ...).

        Everything a verifier reads comes from the file, and a file may hold anything. Each part
        reads its input strictly and says what is wrong in its own words; should one still fail
        in a way nobody foresaw, the verdict names the part and says "not valid", and the CLI,
        the API and the page answer with a report, never a traceback.
        """
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - a verdict, never a traceback (issue 13)
            self.problem(f"the {part} {UNCHECKED} ({type(exc).__name__}), so the seal cannot be confirmed")

    def seal_outcome(self, check: SealCheck) -> None:
        """Take what a seal check (XAdES or JAdES) found: intact or not, its level, problems, notes."""
        self.signature_intact = check.intact
        self.level = check.level
        self.problems.extend(check.problems)
        self.notes.extend(check.notes)

    def schema_outcome(self, problems: list[str] | None, *, against: str, skipped: str) -> None:
        """Record a schema or shapes check: None means it was not configured, which is said, not hidden."""
        if problems is None:
            self.notes.append(skipped)
            return
        self.schema_valid = not problems
        if problems:
            shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            self.problem(f"the credential does not follow {against}: {shown}")

    def qualification_outcome(self, qualification: Any) -> None:
        """Take the qualified-seal decision (a bridge.edc.qualified.Qualification)."""
        self.qualified = qualification.qualified
        self.qualified_why = qualification.why
        self.provider = qualification.provider
        self.provider_country = qualification.country

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for internal in ("seal_certificate", "judged_at"):
            del d[internal]
        d["valid"] = self.valid
        d["qualified"] = "unknown" if self.qualified is None else self.qualified  # true | false | "unknown"
        return d

    def plain_words(self) -> str:
        """A short verdict a person can read, as the CLI and the public page show it."""
        head = "VALID: this credential is intact and sealed by a trusted issuer." if self.valid else (
            "NOT VALID: " + (self.problems[0] if self.problems else "the seal could not be confirmed.")
        )
        lines = [head]
        for label, value in (
            ("Learner", self.learner), ("Title", self.title), ("Issuer", self.issuer),
            ("ECTS credits", self.ects), ("EQF level", self.eqf_level), ("Issued", self.issued),
            ("Sealed at", self.sealed_at), ("Seal level", self.level), ("Sealed by", self.signer),
            ("Format", self.format), ("Credential id", self.credential_id),
            ("Issuer's status resource", self.revocation),
            ("Qualified electronic seal", self.qualified_words()),
        ):
            if value is not None:
                lines.append(f"  {label}: {value}")
        lines += [f"  Problem: {p}" for p in self.problems[1:] if self.valid is False] if self.problems else []
        lines += [f"  Note: {n}" for n in self.notes]
        return "\n".join(lines)


    def qualified_words(self) -> str | None:
        """"yes", "no" or "unknown", with the provider and why; None when the question was not asked."""
        if self.qualified_why is None:
            return None
        word = {True: "yes", False: "no", None: "unknown"}[self.qualified]
        provider = f", by {self.provider} ({self.provider_country})" if self.provider and self.qualified else ""
        return f"{word}{provider}: {self.qualified_why}"


def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z") if moment else None
