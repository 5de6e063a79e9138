"""The credential formats the product issues and reads: one list, one vocabulary, one place to ask.

Everything outside `bridge/edc` that depends on a credential's format (the worker choosing how to
seal, the mail and Moodle naming the file, the API's media type, the pages' download, the CLI's
choices, the settings' EDC_FORMATS) asks this module instead of comparing names or sniffing bytes.
A new format (Open Badges 3.0, SD-JWT VC) is one module implementing `CredentialFormat` and one
line in `IMPLEMENTATIONS`.

The names are `edc-xml`, `elm3-jsonld` and `ob3-vcjwt` (Open Badges 3.0), everywhere: schemas/, the OpenAPI, the plugin, the mail,
the CLI, the registry. Older plugins and their stored records used `edc-xml-v1` and `elm-v3-jsonld`;
those are accepted on input as aliases (`canonical`) and never written.

Pure: no Flask, no database, no environment. The format modules import their heavy parts (lxml,
cryptography, pyshacl) only when a credential is built or read, so asking for a name stays cheap.
"""
from __future__ import annotations

import abc
import datetime as dt
import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.ltv import LongTermSeal
    from bridge.edc.model import Credential
    from bridge.edc.ob3_schema import Ob3Schema
    from bridge.edc.report import VerificationReport
    from bridge.edc.schema_check import EdcSchema
    from bridge.edc.shacl_check import ElmShapes
    from bridge.edc.status import Lookup as StatusLookup
    from bridge.edc.trusted_lists import TrustedLists
    from hsm.signer import SealKey

# One line per format: the module and the name of its CredentialFormat object. The first is the
# default of a site that configures nothing else.
IMPLEMENTATIONS = (
    ("bridge.edc.format_edc_xml", "FORMAT"),
    ("bridge.edc.format_elm3", "FORMAT"),
    ("bridge.edc.format_ob3", "FORMAT"),
)
BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


class UnknownFormat(ValueError):
    """A format name that is neither one of ours nor an alias of one; the message lists the known ones."""


@dataclass(frozen=True)
class Checks:
    """The official checks a format may run, loaded once by the caller; None means not configured.

    Each format takes what applies to it: the EDC XSD (EDC v1 XML), the EU's SHACL shapes (ELM v3);
    the EU trusted lists (bridge/edc/trusted_lists.py) apply to every format's seal.
    """

    schema: "EdcSchema | None" = None
    shapes: "ElmShapes | None" = None
    trusted_lists: "TrustedLists | None" = None
    # the CAs whose time-stamping authorities are believed (EDC_TSA_TRUST_ANCHORS); None: the seal's anchors
    tsa_anchors: "Sequence[x509.Certificate] | None" = None
    # how to look up the status resource a credential names (bridge/edc/status.py); None: not looked up
    status: "StatusLookup | None" = None
    # 1EdTech's Open Badges 3.0 JSON Schema (EDC_OB3_SCHEMA, bridge/edc/ob3_schema.py); None: not checked
    ob3_schema: "Ob3Schema | None" = None


class CredentialFormat(abc.ABC):
    """What one format is, and how to make, raise, read and check a credential in it."""

    name: str = ""  # the one name used everywhere
    label: str = ""  # how people see it named
    aliases: tuple[str, ...] = ()  # older names accepted on input
    media_type: str = "application/octet-stream"
    extension: str = "bin"
    carries_status: bool = False  # has a field naming a public status resource (credentialStatus)

    def __repr__(self) -> str:
        return f"<format {self.name}>"

    def filename(self, credential_id: str) -> str:
        """The file name a learner sees: credential-<uuid>.<extension>."""
        return f"credential-{credential_id.rpartition(':')[2]}.{self.extension}"

    @abc.abstractmethod
    def detect(self, data: bytes) -> bool:
        """Whether `data` looks like this format (a cheap look at the first bytes, not a verdict)."""

    @abc.abstractmethod
    def build(self, credential: "Credential") -> bytes:
        """The unsealed document, as bytes."""

    @abc.abstractmethod
    def issue(self, credential: "Credential", seal: "SealKey", *, checks: Checks,
              signing_time: dt.datetime | None = None, **seal_options: Any) -> bytes:
        """Build, check, seal on the token and raise to the wanted level (`seal_options`: level, tsa,
        tsa_policy, revocation_source, as bridge/edc/ltv.py explains). Never seals what fails a check."""

    @abc.abstractmethod
    def raise_level(self, data: bytes, settings: Any, revocation_source: Any = None,
                    anchors: Sequence["x509.Certificate"] = ()) -> bytes:
        """A stored sealed document brought to `settings.level` (the time-stamp added later)."""

    def long_term(self, data: bytes) -> "LongTermSeal":
        """The unsigned properties of a sealed document of this format, to raise its level or renew it
        (bridge/edc/ltv.py works on them); ValueError when the document cannot be read as one."""
        raise ValueError(f"{self.label} credentials carry no long-term seal")

    @abc.abstractmethod
    def verify(self, data: bytes, *, trust_anchors: Sequence["x509.Certificate"], checks: Checks,
               now: dt.datetime | None = None) -> "VerificationReport":
        """The verifier's verdict on a file of this format."""

    @abc.abstractmethod
    def read(self, data: bytes) -> Any:
        """The parsed document (an XML tree, a JSON object); raises ValueError when it cannot be read."""

    @abc.abstractmethod
    def summarise(self, data: bytes) -> dict[str, Any]:
        """Learner, title, issuer, ids and dates as a person reads them (None where missing)."""

    @abc.abstractmethod
    def dictionary_seed(self, placeholder: "Credential", sealed: bytes) -> bytes:
        """Bytes the course's credentials share, with no real person in them (the registry's
        compression dictionary): the document for a placeholder learner plus the seal's skeleton."""

    @abc.abstractmethod
    def skipped_check(self, checks: Checks) -> str | None:
        """Why this format's official check would not run with `checks` (None: it runs)."""

    def status_url(self, data: bytes) -> str | None:
        """The public status resource the sealed document names, if the format has such a field."""
        return None


@lru_cache(maxsize=1)
def all_formats() -> tuple[CredentialFormat, ...]:
    """Every format, the site default first."""
    return tuple(getattr(importlib.import_module(module), attribute) for module, attribute in IMPLEMENTATIONS)


def names() -> tuple[str, ...]:
    return tuple(f.name for f in all_formats())


def default() -> CredentialFormat:
    return all_formats()[0]


@lru_cache(maxsize=1)
def _by_name() -> Mapping[str, CredentialFormat]:
    table: dict[str, CredentialFormat] = {}
    for fmt in all_formats():
        for name in (fmt.name, *fmt.aliases):
            table[name] = fmt
    return table


def get(name: str) -> CredentialFormat:
    """The format of a name or alias; UnknownFormat naming the known ones otherwise."""
    fmt = _by_name().get(name.strip().lower()) if isinstance(name, str) else None
    if fmt is None:
        raise UnknownFormat(f"{name!r} is not a credential format; known: {', '.join(names())}")
    return fmt


def canonical(name: str) -> str:
    """The one name of a format given by name or alias (`edc-xml-v1` -> `edc-xml`)."""
    return get(name).name


def is_known(name: Any) -> bool:
    return isinstance(name, str) and name.strip().lower() in _by_name()


def parse_list(text: str | Iterable[str]) -> tuple[str, ...]:
    """`edc-xml,elm3-jsonld` (or a list) -> canonical names, in order, each once; UnknownFormat if one is not."""
    items = text.split(",") if isinstance(text, str) else list(text)
    chosen: list[str] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        name = canonical(item)
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def requested(description: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The formats a course description asks for (its `format`: one name or a list), or None when it
    names none. Raises UnknownFormat for a name that is no format (the schema refuses those first)."""
    value = description.get("format") if isinstance(description, Mapping) else None
    if value is None or value == [] or value == "":
        return None
    return parse_list([value] if isinstance(value, str) else value)


def for_course(description: Mapping[str, Any], site_formats: Sequence[str]) -> tuple[str, ...]:
    """What a course issues: the formats its description names, else the site default (the first of
    `site_formats`). A named format the site does not issue raises UnknownFormat: never another one
    in its place (the caller parks the issuance and says why)."""
    wanted = requested(description)
    if wanted is None:
        return (site_formats[0],) if site_formats else (default().name,)
    refused = [name for name in wanted if name not in site_formats]
    if refused:
        raise UnknownFormat(f"this site does not issue {', '.join(refused)} (EDC_FORMATS is "
                            f"{','.join(site_formats)})")
    return wanted


def detect(data: bytes) -> CredentialFormat | None:
    """Which of our formats a file is in, from its first bytes; None when it is none of them."""
    for fmt in all_formats():
        if fmt.detect(data):
            return fmt
    return None


def long_term(data: bytes) -> "LongTermSeal":
    """The unsigned properties of a stored sealed document, whatever its format (ltv.LongTermSeal)."""
    fmt = detect(data)
    if fmt is None:
        raise ValueError(unrecognised_problem())
    return fmt.long_term(data)


def first_byte(data: bytes) -> bytes:
    """The first meaningful byte (after a BOM and white space): enough to tell XML from JSON."""
    return data.lstrip(BOM_AND_SPACE)[:1]


def unrecognised_problem() -> str:
    """The verdict's words for a file in none of our formats."""
    return "the file is in none of the credential formats read here (" + ", ".join(
        f.label for f in all_formats()) + ")"


def verify(data: bytes, *, trust_anchors: Sequence["x509.Certificate"], checks: Checks = Checks(),
           now: dt.datetime | None = None) -> "VerificationReport":
    """The verdict on a credential file of any of our formats."""
    fmt = detect(data)
    if fmt is None:
        from bridge.edc.report import VerificationReport

        report = VerificationReport()
        report.problem(unrecognised_problem())
        return report
    now = now or dt.datetime.now(dt.timezone.utc)
    report = fmt.verify(data, trust_anchors=trust_anchors, checks=checks, now=now)
    from bridge.edc import qualified  # after the trust decision, the same for every format

    qualified.judge_report(report, checks.trusted_lists, now=now)
    from bridge.edc import status  # what the issuer says today: checked | unreachable | not-offered

    status.apply(report, fmt.status_url(data) if fmt.carries_status else None, fmt.carries_status, checks.status,
                 trust_anchors, now)
    return report
