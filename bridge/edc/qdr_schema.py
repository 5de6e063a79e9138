"""The check of a QDR learning-opportunity document against the EU's `loq.xsd`, offline.

`loq.xsd` (Europass's Qualification and learning opportunity Data Register, root `<Courses>`) includes
one file and imports about thirty: the W3C vocabularies it builds on (`external/`: SKOS, Dublin Core,
ADMS, FOAF, ORG, RegOrg, LOCN) and the EU's controlled lists (`cv/`: EQF levels, languages, countries,
ISCED-F fields, currencies, ...). The copy in the reference folder is `loq.xsd` alone, and libxml2
cannot compile it without them. So each file the folder lacks is replaced here by a *stand-in*:

* the `external/` stand-ins declare exactly the elements and types `loq.xsd` refers to, with the
  content models of those vocabularies (a `skos:Concept` has prefLabels, altLabels, one notation and
  schemes, and a required `uri`; an ADMS identifier has a notation and its creator; ...);
* the `cv/` stand-ins say which list a value must come from by the form of its URI
  (`http://data.europa.eu/snb/eqf/[1-8]`, `.../authority/language/[A-Z_]+`, `.../isced-f/[0-9]{2,4}`),
  not which entries the list holds: an unknown ISCED-F code of the right form passes here, where the
  EU's own file would refuse it.

A folder that holds the EU's complete set (`cv/` and `external/` beside `loq.xsd`, as the European
Learning Model repository publishes it) is used as it is, with no stand-in. Files are read from the
schema folder only; anything else an include or import names is refused. The EU's sample `loq.xml`
validates against `loq.xsd` with the stand-ins (tests/europass), so they are no stricter than the EU's
files on it.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable

from lxml import etree

from bridge.edc.schema_check import UnsafeSchemaImport, safe_parse

SCHEMA_FILE = "loq.xsd"
LOQ_NS = "http://data.europa.eu/snb/model/ap/loq-constraints/"
XS = "http://www.w3.org/2001/XMLSchema"

PREFIXES = {
    LOQ_NS: "",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://purl.org/dc/terms/": "dc:",
    "http://www.w3.org/ns/locn#": "locn:",
    "http://data.europa.eu/m8g/": "clv:",
}


class QdrSchemaNotFound(FileNotFoundError):
    """The configured folder (EDC_QDR_SCHEMA_DIR) holds no loq.xsd."""


# --- stand-ins for the files the reference folder lacks ------------------------------------------


def _schema(namespace: str, body: str, imports: Iterable[tuple[str, str]] = (), prefixes: str = "") -> str:
    lines = "".join(f'<xs:import namespace="{ns}" schemaLocation="{location}"/>' for ns, location in imports)
    return (f'<xs:schema xmlns:xs="{XS}" xmlns="{namespace}" targetNamespace="{namespace}" '
            f'elementFormDefault="qualified" {prefixes}>{lines}{body}</xs:schema>')


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DC = "http://purl.org/dc/terms/"
ADMS = "http://www.w3.org/ns/adms#"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
ROV = "http://www.w3.org/ns/regorg#"
LOCN = "http://www.w3.org/ns/locn#"
CLV = "http://data.europa.eu/m8g/"

_TEXT = '<xs:simpleContent><xs:extension base="xs:string">{attributes}</xs:extension></xs:simpleContent>'

EXTERNAL_STANDINS = {
    "external/rdf.xsd": _schema(RDF, '<xs:complexType name="LangStringType">' + _TEXT.format(
        attributes='<xs:attribute name="language" type="xs:normalizedString" use="required"/>') + "</xs:complexType>"),
    "external/rdfs.xsd": _schema(RDFS, '<xs:element name="literal" type="LiteralType"/>'
                                 '<xs:complexType name="LiteralType">' + _TEXT.format(
        attributes='<xs:attribute name="language" type="xs:normalizedString"/>'
                   '<xs:attribute name="datatype" type="xs:anyURI"/>') + "</xs:complexType>"),
    "external/skos.xsd": _schema(SKOS, (
        '<xs:element name="Concept" type="ConceptType"/><xs:element name="notation" type="NotationType"/>'
        '<xs:element name="prefLabel" type="rdf:LangStringType"/><xs:element name="altLabel" type="rdf:LangStringType"/>'
        '<xs:element name="definition" type="rdf:LangStringType"/><xs:element name="inScheme" type="xs:anyURI"/>'
        '<xs:complexType name="ConceptType"><xs:sequence>'
        '<xs:element ref="prefLabel" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="altLabel" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="notation" minOccurs="0"/>'
        '<xs:element ref="inScheme" minOccurs="0" maxOccurs="unbounded"/>'
        '</xs:sequence><xs:attribute name="uri" type="xs:anyURI" use="required"/></xs:complexType>'
        '<xs:complexType name="NotationType">' + _TEXT.format(attributes='<xs:attribute name="type" type="xs:anyURI"/>')
        + "</xs:complexType>"), [(RDF, "rdf.xsd")], f'xmlns:rdf="{RDF}"'),
    "external/dc.xsd": _schema(DC, (
        '<xs:element name="PeriodOfTime" type="PeriodOfTimeType"/><xs:element name="Location" type="LocationType"/>'
        '<xs:complexType name="PeriodOfTimeType"/><xs:complexType name="LocationType"/>'
        '<xs:element name="issued" type="rdfs:LiteralType"/><xs:element name="creator" type="xs:anyURI"/>'
        '<xs:element name="type" type="skos:ConceptType"/><xs:element name="language" type="skos:ConceptType"/>'
        '<xs:element name="subject" type="skos:ConceptType"/>'), [(SKOS, "skos.xsd"), (RDFS, "rdfs.xsd")],
        f'xmlns:skos="{SKOS}" xmlns:rdfs="{RDFS}"'),
    "external/adms.xsd": _schema(ADMS, (
        '<xs:element name="Identifier" type="IdentifierType"/><xs:element name="identifier" type="IdentifierType"/>'
        '<xs:element name="schemeAgency" type="rdfs:LiteralType"/>'
        '<xs:complexType name="IdentifierType"><xs:sequence>'
        '<xs:element ref="skos:notation" minOccurs="0"/><xs:element ref="dc:creator" minOccurs="0"/>'
        '<xs:element ref="schemeAgency" minOccurs="0"/><xs:element ref="dc:issued" minOccurs="0"/>'
        '</xs:sequence></xs:complexType>'), [(DC, "dc.xsd"), (SKOS, "skos.xsd"), (RDFS, "rdfs.xsd")],
        f'xmlns:skos="{SKOS}" xmlns:dc="{DC}" xmlns:rdfs="{RDFS}"'),
    "external/foaf.xsd": _schema(FOAF, '<xs:element name="Agent" type="AgentType"/><xs:complexType name="AgentType"/>'),
    "external/org.xsd": _schema(ORG, (
        '<xs:element name="Organization" type="OrganizationType"/>'
        '<xs:element name="hasSubOrganization" type="OrganizationType"/>'
        '<xs:element name="isSubOrganizationOf" type="OrganizationType"/>'
        '<xs:element name="memberOf" type="OrganizationType"/><xs:element name="hasMember" type="foaf:AgentType"/>'
        '<xs:complexType name="OrganizationType"><xs:sequence>'
        '<xs:element ref="skos:prefLabel" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="skos:altLabel" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="skos:notation" minOccurs="0"/>'
        '<xs:element ref="hasSubOrganization" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="isSubOrganizationOf" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="hasMember" minOccurs="0" maxOccurs="unbounded"/>'
        '</xs:sequence></xs:complexType>'), [(SKOS, "skos.xsd"), (FOAF, "foaf.xsd")],
        f'xmlns:skos="{SKOS}" xmlns:foaf="{FOAF}"'),
    "external/rov.xsd": _schema(ROV, (
        '<xs:element name="RegisteredOrganization" type="RegisteredOrganizationType"/>'
        '<xs:element name="legalName" type="rdfs:LiteralType"/><xs:element name="registration" type="adms:IdentifierType"/>'
        '<xs:complexType name="RegisteredOrganizationType"><xs:complexContent><xs:extension base="org:OrganizationType">'
        '<xs:sequence><xs:element ref="legalName" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="registration" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>'
        '</xs:extension></xs:complexContent></xs:complexType>'),
        [(RDFS, "rdfs.xsd"), (SKOS, "skos.xsd"), (ORG, "org.xsd"), (ADMS, "adms.xsd")],
        f'xmlns:rdfs="{RDFS}" xmlns:org="{ORG}" xmlns:adms="{ADMS}"'),
    "external/core-location-ap.xsd": _schema(CLV, '<xs:element name="longitude" type="xs:string"/>'
                                                  '<xs:element name="latitude" type="xs:string"/>'),
    "external/core-locn-ap.xsd": _schema(LOCN, (
        '<xs:element name="geometry" type="GeometryType"/><xs:complexType name="GeometryType"><xs:sequence>'
        '<xs:element ref="clv:longitude" minOccurs="0" maxOccurs="unbounded"/>'
        '<xs:element ref="clv:latitude" minOccurs="0" maxOccurs="unbounded"/>'
        '</xs:sequence></xs:complexType>'), [(CLV, "core-location-ap.xsd")], f'xmlns:clv="{CLV}"'),
}

_SNB = r"http://data\.europa\.eu/snb/"
_AUTHORITY = r"http://publications\.europa\.eu/resource/authority/"
_HEX10 = "[0-9a-f]{10}"

# file -> (target namespace, {type name: the XSD pattern its URIs follow}).
CV_STANDINS = {
    "cv/atu.xsd": (f"http://publications.europa.eu/resource/authority/atu",
                   {"AdministrativeTerritorialUnitEnumType": _AUTHORITY + "atu/[0-9A-Z_]+"}),
    "cv/country.xsd": ("http://publications.europa.eu/resource/authority/country",
                       {"CountryEnumType": _AUTHORITY + "country/[0-9A-Z_]+"}),
    "cv/currency.xsd": ("http://publications.europa.eu/resource/authority/currency",
                        {"CurrencyEnumType": _AUTHORITY + "currency/[A-Z]{3}"}),
    "cv/file-type.xsd": ("http://publications.europa.eu/resource/authority/file-type",
                         {"FileTypeEnumType": _AUTHORITY + "file-type/[0-9A-Z_]+"}),
    "cv/language.xsd": ("http://publications.europa.eu/resource/authority/language",
                        {"LanguageEnumType": _AUTHORITY + "language/[A-Z_]+"}),
    "cv/nuts.xsd": ("http://data.europa.eu/nuts", {"NutsCodeEnumType": r"http://data\.europa\.eu/nuts/code/[0-9A-Z]{2,5}"}),
    "cv/eqf.xsd": ("http://data.europa.eu/snb/eqf/25831c2", {"EQFLevelEnumType": _SNB + "eqf/[1-8]"}),
    "cv/isced-f.xsd": ("http://data.europa.eu/snb/isced-f/25831c2", {"ISCED-FEnumType": _SNB + "isced-f/[0-9]{2,4}"}),
    "cv/nqf.xsd": ("http://data.europa.eu/snb/qdr/25831c2", {"NQFLevelEnumType": _SNB + "qdr/c_[0-9a-f]{8}"}),
    "cv/skill-types.xsd": ("http://data.europa.eu/snb/skill-type/25831c2", {"SkillTypesEnumType": _SNB + "skill-type/[a-z]+"}),
    "cv/skill-reuse-levels.xsd": ("http://data.europa.eu/snb/skill-reuse-level/25831c2",
                                  {"SkillReuseLevelEnumType": _SNB + "skill-reuse-level/[a-z-]+"}),
    "cv/loq_individuals.xsd": (LOQ_NS, {
        "SubjectTypeCodeEnumType": _SNB + "(qualification|learningOpportunity)-topics#[a-z-]+",
        "AccreditationStatusEnumType": _SNB + "status/[a-z-]+",
    }),
}
# The EU's own lists of ten-hex-digit concepts: (file, list name in the URI, type name).
for _file, _list, _type in (
    ("credit-points", "education-credit", "CreditPointsEnumType"),
    ("europass-accreditation-types", "accreditation", "AccreditationTypesEnumType"),
    ("europass-content-encoding-types", "encoding", "ContentEncodingTypesEnumType"),
    ("europass-learning-activity-types", "learning-activity", "LearningActivityTypesEnumType"),
    ("europass-learning-assessment-types", "assessment", "LearningAssessmentTypesEnumType"),
    ("europass-learning-entitlement-statuses", "entitlement-status", "LearningEntitlementStatusesEnumType"),
    ("europass-learning-entitlement-types", "entitlement", "LearningEntitlementTypesEnumType"),
    ("europass-learning-opportunity-types", "learning-opportunity", "LearningOpportunityTypesEnumType"),
    ("europass-learning-schedule-types", "learning-schedule", "LearningScheduleTypesEnumType"),
    ("europass-learning-setting-types", "learning-setting", "LearningSettingTypesEnumType"),
    ("europass-modes", "learning-assessment", "ModesOfLearningandAssessmentEnumType"),
    ("europass-target-groups", "target-group", "TargetGroupsEnumType"),
):
    CV_STANDINS[f"cv/{_file}.xsd"] = (f"http://data.europa.eu/snb/{_list}/25831c2", {_type: _SNB + f"{_list}/{_HEX10}"})


def _cv_schema(namespace: str, types: dict[str, str]) -> str:
    body = "".join(f'<xs:simpleType name="{name}"><xs:restriction base="xs:anyURI"><xs:pattern value="{pattern}"/>'
                   f"</xs:restriction></xs:simpleType>" for name, pattern in types.items())
    return f'<xs:schema xmlns:xs="{XS}" targetNamespace="{namespace}">{body}</xs:schema>'


STANDINS: dict[str, str] = dict(EXTERNAL_STANDINS)
STANDINS.update({location: _cv_schema(ns, types) for location, (ns, types) in CV_STANDINS.items()})


class _FolderOrStandIn(etree.Resolver):
    """Files of the schema folder as they are; a file missing from it by its stand-in; nothing else."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.stand_ins: list[str] = []

    def resolve(self, system_url, public_id, context):  # noqa: ANN001 - lxml's signature
        path = Path(system_url[7:] if system_url.startswith("file://") else system_url)
        path = (path if path.is_absolute() else self.folder / path).resolve()
        try:
            relative = path.relative_to(self.folder).as_posix()
        except ValueError:
            raise UnsafeSchemaImport(system_url) from None
        if path.is_file():
            return None  # the EU's own file
        if relative in STANDINS:
            self.stand_ins.append(relative)
            return self.resolve_string(STANDINS[relative], context, base_url=str(path))
        raise UnsafeSchemaImport(system_url)


class QdrSchema:
    """`loq.xsd` of a folder, compiled once (with stand-ins for what the folder lacks)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).resolve()
        path = self.folder / SCHEMA_FILE
        if not path.is_file():
            raise QdrSchemaNotFound(f"{SCHEMA_FILE} is not in {self.folder} (EDC_QDR_SCHEMA_DIR)")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        resolver = _FolderOrStandIn(self.folder)
        parser.resolvers.add(resolver)
        self._schema = etree.XMLSchema(etree.parse(str(path), parser))
        self.stand_ins = tuple(sorted(set(resolver.stand_ins)))
        self._lock = threading.Lock()  # a compiled schema keeps the error log of its last run

    def problems(self, document: bytes | etree._ElementTree) -> list[str]:
        """Every way the document breaks the schema, one line each (empty: valid)."""
        tree = safe_parse(document) if isinstance(document, (bytes, bytearray)) else document
        with self._lock:
            if self._schema.validate(tree):
                return []
            return [f"line {e.line}: {_short(e.message)}" for e in self._schema.error_log]


def _short(message: str) -> str:
    for long, short in PREFIXES.items():
        message = message.replace("{" + long + "}", short)
    return message
