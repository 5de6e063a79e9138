"""The controlled vocabularies an EDC v1 credential points into, as the builder and readers need them.

An EDC code is a URI plus a human label plus the URI and name of the list it comes from. Europass
viewers show the label we write, so every concept here carries its label in English and in
Lithuanian (the pilot's two languages). The URIs and English labels are the ones the EU's own v1
samples and the v3 micro-credential sample use (../shared/reference/edc/v1_samples, v3_jsonld);
the Lithuanian labels are this project's translations, except where a sample gave one (languages).
A concept a sample did not show is not invented here: the builder says so in a note instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Scheme:
    """A controlled list: its `targetFrameworkUrl`, its display name, and the optional `targetNotation`."""

    url: str
    name: Mapping[str, str]
    notation: str | None = None


@dataclass(frozen=True)
class Concept:
    """One code of a list. `labels` holds the display name per language (at least "en")."""

    scheme: Scheme
    uri: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, lang: str) -> str | None:
        return self.labels.get(lang)


def _table(scheme: Scheme, rows: Mapping[str, tuple[str, str, str]]) -> Mapping[str, Concept]:
    """Key -> Concept from rows of (uri, english label, lithuanian label); read-only so no one edits it."""
    return MappingProxyType({key: Concept(scheme, uri, {"en": en, "lt": lt}) for key, (uri, en, lt) in rows.items()})


SNB = "http://data.europa.eu/snb"
AUTHORITY = "http://publications.europa.eu/resource/authority"

# --- credential type ---------------------------------------------------------------------------
CREDENTIAL_TYPE_SCHEME = Scheme(
    f"{SNB}/credential/25831c2",
    {"en": "Europass Standard List of Credential Types", "lt": "Europass standartinis kredencialų tipų sąrašas"},
)
CREDENTIAL_TYPES = _table(CREDENTIAL_TYPE_SCHEME, {
    "generic": (f"{SNB}/credential/e34929035b", "Generic", "Bendrasis"),
})

# --- EQF levels --------------------------------------------------------------------------------
# The schema fixes the framework URL (EQFFrameworkEnumType); concept URIs are .../eqf/<level>.
EQF_SCHEME = Scheme(
    f"{SNB}/eqf/25831c2",
    {"en": "European Qualifications Framework", "lt": "Europos kvalifikacijų sandara"},
)
EQF_LEVELS = _table(EQF_SCHEME, {
    str(n): (f"{SNB}/eqf/{n}", f"Level {n}", f"{n} lygis") for n in range(1, 9)
})

# --- modes of learning and assessment (participation) ------------------------------------------
LEARNING_MODE_SCHEME = Scheme(
    f"{SNB}/learning-assessment/25831c2",
    {"en": "Europass Standard List of Modes Of Learning and Assessment",
     "lt": "Europass standartinis mokymosi ir vertinimo būdų sąrašas"},
)
# Keys are the course description's participation.mode values.
LEARNING_MODES = _table(LEARNING_MODE_SCHEME, {
    "online": (f"{SNB}/learning-assessment/920fbb3cbe", "Online", "Nuotolinis"),
    "onsite": (f"{SNB}/learning-assessment/9191af2ed9", "Presential", "Kontaktinis"),
    "blended": (f"{SNB}/learning-assessment/e92d221e4d", "Blended", "Mišrusis"),
})

# --- assessment types --------------------------------------------------------------------------
ASSESSMENT_TYPE_SCHEME = Scheme(
    f"{SNB}/assessment/25831c2",
    {"en": "Europass Standard List Of Assessment Types", "lt": "Europass standartinis vertinimo tipų sąrašas"},
)
ASSESSMENT_TYPES = _table(ASSESSMENT_TYPE_SCHEME, {
    "written-examination": (f"{SNB}/assessment/6e6cb2cc78", "written examination", "raštu laikomas egzaminas"),
    "oral-examination": (f"{SNB}/assessment/d30284d7df", "oral examination", "žodžiu laikomas egzaminas"),
    "practical-assessment": (f"{SNB}/assessment/6a4db9f11d", "practical assessment", "praktinis vertinimas"),
    "continuous-evaluation": (f"{SNB}/assessment/3484bd7e51", "continuous evaluation", "kaupiamasis vertinimas"),
    "quiz": (f"{SNB}/assessment/b1b68f6735", "quiz", "testas"),
    "level-of-attendance": (f"{SNB}/assessment/7331eb4762", "level of attendance", "lankomumas"),
})

# --- supervision and identity verification -----------------------------------------------------
SUPERVISION_SCHEME = Scheme(
    f"{SNB}/supervision-verification/25831c2",
    {"en": "Europass Standard List of Methods Of Supervision And Verification",
     "lt": "Europass standartinis priežiūros ir tikrinimo būdų sąrašas"},
    notation="supervision-verification",
)
# c598449d64 is "No ID Verification" in the v1 samples and "Unsupervised without ID Verification" in
# the v3 micro-credential sample: it is our "none". The samples show no concept for "supervised, no
# ID verification", so that value has no entry; the builder states it in an additionalNote instead.
SUPERVISION = _table(SUPERVISION_SCHEME, {
    "none": (f"{SNB}/supervision-verification/c598449d64", "Unsupervised without ID Verification",
             "Be priežiūros ir be tapatybės patikrinimo"),
    "supervised-with-id-verification": (f"{SNB}/supervision-verification/70be69aaf9",
                                        "Supervised with ID Verification",
                                        "Prižiūrima, tikrinant tapatybę"),
    "id-verification-only": (f"{SNB}/supervision-verification/44314532f9", "ID Verification",
                             "Tapatybės patikrinimas"),
})
SUPERVISION_WITHOUT_CODE = MappingProxyType({
    "supervised-no-id-verification": {"en": "Supervised, without identity verification",
                                      "lt": "Prižiūrima, netikrinant tapatybės"},
})

# --- learning outcome types (ESCO skill pillar) ------------------------------------------------
SKILL_TYPE_SCHEME = Scheme(
    f"{SNB}/skill-type/25831c2",
    {"en": "ESCO Skill Pillar concept (sub-) Types", "lt": "ESCO įgūdžių ramsčio sąvokų (po)tipiai"},
)
# The list has "knowledge" and "skill" in the samples; an EQF "responsibility and autonomy" outcome has
# no concept shown there, so the builder leaves learningOutcomeType out for it and says so in a note.
SKILL_TYPES = _table(SKILL_TYPE_SCHEME, {
    "knowledge": (f"{SNB}/skill-type/knowledge", "knowledge", "žinios"),
    "skill": (f"{SNB}/skill-type/skill", "skill", "įgūdžiai"),
})
OUTCOME_TYPES_WITHOUT_CODE = MappingProxyType({
    "responsibility-autonomy": {"en": "responsibility and autonomy", "lt": "atsakomybė ir savarankiškumas"},
})

# --- ISCED-F 2013 fields of education ---------------------------------------------------------
ISCED_F_SCHEME = Scheme(
    f"{SNB}/isced-f/25831c2",
    {"en": "International Standard Classification of Education: Fields of Education and Training 2013",
     "lt": "Tarptautinė standartinė švietimo klasifikacija: švietimo ir mokymo sritys (2013)"},
)
ISCED_F = _table(ISCED_F_SCHEME, {
    code: (f"{SNB}/isced-f/{code}", en, lt) for code, (en, lt) in {
        "00": ("Generic programmes and qualifications", "Bendrosios programos ir kvalifikacijos"),
        "003": ("Personal skills and development", "Asmeniniai įgūdžiai ir tobulėjimas"),
        "01": ("Education", "Švietimas"),
        "02": ("Arts and humanities", "Menai ir humanitariniai mokslai"),
        "022": ("Humanities (except languages)", "Humanitariniai mokslai (išskyrus kalbas)"),
        "0223": ("Philosophy and ethics", "Filosofija ir etika"),
        "023": ("Languages", "Kalbos"),
        "0231": ("Language acquisition", "Kalbų mokymasis"),
        "03": ("Social sciences, journalism and information", "Socialiniai mokslai, žurnalistika ir informacija"),
        "04": ("Business, administration and law", "Verslas, administravimas ir teisė"),
        "05": ("Natural sciences, mathematics and statistics", "Gamtos mokslai, matematika ir statistika"),
        "054": ("Mathematics and statistics", "Matematika ir statistika"),
        "06": ("Information and Communication Technologies (ICTs)",
               "Informacinės ir komunikacinės technologijos (IRT)"),
        "061": ("Information and Communication Technologies (ICTs)",
                "Informacinės ir komunikacinės technologijos (IRT)"),
        "0612": ("Database and network design and administration",
                 "Duomenų bazių ir tinklų projektavimas ir administravimas"),
        "068": ("Inter-disciplinary programmes and qualifications involving Information and Communication "
                "Technologies (ICTs)", "Tarpdalykinės programos ir kvalifikacijos, susijusios su IRT"),
        "0688": ("Inter-disciplinary programmes and qualifications involving Information and Communication "
                 "Technologies (ICTs)", "Tarpdalykinės programos ir kvalifikacijos, susijusios su IRT"),
        "07": ("Engineering, manufacturing and construction", "Inžinerija, gamyba ir statyba"),
        "071": ("Engineering and engineering trades", "Inžinerija ir inžinerinės profesijos"),
        "0713": ("Electricity and energy", "Elektra ir energetika"),
        "08": ("Agriculture, forestry, fisheries and veterinary",
               "Žemės ūkis, miškininkystė, žuvininkystė ir veterinarija"),
        "09": ("Health and welfare", "Sveikata ir gerovė"),
        "10": ("Services", "Paslaugos"),
    }.items()
})

# --- countries (EU Publications Office authority list, ISO 3166-1 alpha-3) ---------------------
COUNTRY_SCHEME = Scheme(f"{AUTHORITY}/country", {"en": "Country", "lt": "Šalis"}, notation="country")
COUNTRIES = _table(COUNTRY_SCHEME, {
    code: (f"{AUTHORITY}/country/{code}", en, lt) for code, (en, lt) in {
        "AND": ("Andorra", "Andora"), "AUT": ("Austria", "Austrija"), "BEL": ("Belgium", "Belgija"),
        "BGR": ("Bulgaria", "Bulgarija"), "CYP": ("Cyprus", "Kipras"), "CZE": ("Czechia", "Čekija"),
        "DEU": ("Germany", "Vokietija"), "DNK": ("Denmark", "Danija"), "ESP": ("Spain", "Ispanija"),
        "EST": ("Estonia", "Estija"), "FIN": ("Finland", "Suomija"), "FRA": ("France", "Prancūzija"),
        "GRC": ("Greece", "Graikija"), "HRV": ("Croatia", "Kroatija"), "HUN": ("Hungary", "Vengrija"),
        "IRL": ("Ireland", "Airija"), "ISL": ("Iceland", "Islandija"), "ITA": ("Italy", "Italija"),
        "LIE": ("Liechtenstein", "Lichtenšteinas"), "LTU": ("Lithuania", "Lietuva"),
        "LUX": ("Luxembourg", "Liuksemburgas"), "LVA": ("Latvia", "Latvija"), "MLT": ("Malta", "Malta"),
        "NLD": ("Netherlands", "Nyderlandai"), "NOR": ("Norway", "Norvegija"), "POL": ("Poland", "Lenkija"),
        "PRT": ("Portugal", "Portugalija"), "ROU": ("Romania", "Rumunija"), "SVK": ("Slovakia", "Slovakija"),
        "SVN": ("Slovenia", "Slovėnija"), "SWE": ("Sweden", "Švedija"), "UKR": ("Ukraine", "Ukraina"),
        "GBR": ("United Kingdom", "Jungtinė Karalystė"), "USA": ("United States", "Jungtinės Valstijos"),
    }.items()
})

# --- languages ---------------------------------------------------------------------------------
# The 29 languages EDC v1 texts may be written in (LanguageCharCodeEnumType), with the authority
# list's three-letter code each maps to.
LANGUAGE_SCHEME = Scheme(f"{AUTHORITY}/language", {"en": "Language", "lt": "Kalba"}, notation="language")
LANGUAGES = _table(LANGUAGE_SCHEME, {
    two: (f"{AUTHORITY}/language/{three}", en, lt) for two, (three, en, lt) in {
        "bg": ("BUL", "Bulgarian", "bulgarų kalba"), "cs": ("CES", "Czech", "čekų kalba"),
        "da": ("DAN", "Danish", "danų kalba"), "de": ("DEU", "German", "vokiečių kalba"),
        "el": ("ELL", "Greek", "graikų kalba"), "en": ("ENG", "English", "anglų kalba"),
        "es": ("SPA", "Spanish", "ispanų kalba"), "et": ("EST", "Estonian", "estų kalba"),
        "fi": ("FIN", "Finnish", "suomių kalba"), "fr": ("FRA", "French", "prancūzų kalba"),
        "ga": ("GLE", "Irish", "airių kalba"), "hr": ("HRV", "Croatian", "kroatų kalba"),
        "hu": ("HUN", "Hungarian", "vengrų kalba"), "is": ("ISL", "Icelandic", "islandų kalba"),
        "it": ("ITA", "Italian", "italų kalba"), "lt": ("LIT", "Lithuanian", "lietuvių kalba"),
        "lv": ("LAV", "Latvian", "latvių kalba"), "mk": ("MKD", "Macedonian", "makedonų kalba"),
        "mt": ("MLT", "Maltese", "maltiečių kalba"), "nl": ("NLD", "Dutch", "nyderlandų kalba"),
        "no": ("NOR", "Norwegian", "norvegų kalba"), "pl": ("POL", "Polish", "lenkų kalba"),
        "pt": ("POR", "Portuguese", "portugalų kalba"), "ro": ("RON", "Romanian", "rumunų kalba"),
        "sk": ("SLK", "Slovak", "slovakų kalba"), "sl": ("SLV", "Slovenian", "slovėnų kalba"),
        "sr": ("SRP", "Serbian", "serbų kalba"), "sv": ("SWE", "Swedish", "švedų kalba"),
        "tr": ("TUR", "Turkish", "turkų kalba"),
    }.items()
})
EDC_LANGUAGES = frozenset(LANGUAGES)

# --- NUTS regions (issuer's region) ------------------------------------------------------------
# Only the code is known to us, so the label is the code itself.
NUTS_SCHEME = Scheme("http://data.europa.eu/nuts", {"en": "NUTS", "lt": "NUTS"}, notation="nuts")


def nuts_region(code: str) -> Concept:
    return Concept(NUTS_SCHEME, f"http://data.europa.eu/nuts/code/{code}", {"en": code, "lt": code})


# --- words the builder writes itself -----------------------------------------------------------
# Subjects of additionalNote elements. They stay in English in every credential because readers
# (ours, and people comparing credentials) match on them; the note texts themselves are multilingual.
NOTE_SUBJECTS = MappingProxyType({
    "quality_assurance": "Quality assurance",
    "quality_assurance_body": "Quality assurance body",
    "stackability": "Stackability",
    "further_information": "Further information",
    "qf_ehea_cycle": "QF-EHEA cycle",
    "participation": "Form of participation",
    "supervision": "Supervision and identity verification",
    "outcome_types": "Learning outcome type",
})

STACKABILITY = MappingProxyType({
    "stand-alone": {"en": "Stand-alone micro-credential", "lt": "Savarankiškas mikrokredencialas"},
    "integrated": {"en": "Integrated into a larger credential", "lt": "Integruotas į didesnį kredencialą"},
    "stackable": {"en": "Stackable towards a larger credential", "lt": "Kaupiamas siekiant didesnio kredencialo"},
})

QF_EHEA_CYCLES = MappingProxyType({
    "short": {"en": "Short cycle (within or linked to the first cycle)", "lt": "Trumpoji pakopa (susijusi su pirmąja)"},
    "first": {"en": "First cycle", "lt": "Pirmoji pakopa"},
    "second": {"en": "Second cycle", "lt": "Antroji pakopa"},
    "third": {"en": "Third cycle", "lt": "Trečioji pakopa"},
})

# The grade written when the course reports none: an EDC assessment must carry a grade.
PASSED = MappingProxyType({"en": "passed", "lt": "įskaityta"})

# --- what a course catalogue says (QDR learning opportunities, ELM v3 LearningOpportunity) -----
# URIs and English labels of the EU's controlled lists as the QDR schema names them (its cv/ folder,
# which the reference copy of loq.xsd lacks; loq.xml beside it uses several of these URIs); the
# Lithuanian labels are this project's translations. Keys are the description's values.
LEARNING_OPPORTUNITY_TYPE_SCHEME = Scheme(
    f"{SNB}/learning-opportunity/25831c2",
    {"en": "Europass Standard List of Learning Opportunity Types",
     "lt": "Europass standartinis mokymosi galimybių tipų sąrašas"},
)
LEARNING_OPPORTUNITY_TYPES = _table(LEARNING_OPPORTUNITY_TYPE_SCHEME, {
    "course": (f"{SNB}/learning-opportunity/05053c1cbe", "Course", "Kursas"),
    "programme-module": (f"{SNB}/learning-opportunity/0f7dac46ca", "Programme module", "Programos modulis"),
    "mentoring": (f"{SNB}/learning-opportunity/11252a5207", "Mentoring", "Mentorystė"),
    "mooc": (f"{SNB}/learning-opportunity/17744a2647", "MOOC", "Masinis atvirasis nuotolinis kursas"),
    "apprenticeship": (f"{SNB}/learning-opportunity/63f9f6180c", "Apprenticeship", "Pameistrystė"),
    "study-visit": (f"{SNB}/learning-opportunity/65a4cf5de2", "Study visit", "Mokomasis vizitas"),
    "short-learning-programme": (f"{SNB}/learning-opportunity/74a4a268e8", "Short learning programme",
                                 "Trumpoji mokymosi programa"),
    "internship": (f"{SNB}/learning-opportunity/77b99de990", "Internship", "Stažuotė"),
    "educational-programme": (f"{SNB}/learning-opportunity/79343569f3", "Educational programme",
                              "Švietimo programa"),
    "class": (f"{SNB}/learning-opportunity/7e1ac538db", "Class", "Užsiėmimas"),
    "service-learning": (f"{SNB}/learning-opportunity/8b965da2d4", "Service learning", "Mokymasis tarnaujant"),
    "thesis": (f"{SNB}/learning-opportunity/b2434ca358", "Thesis", "Baigiamasis darbas"),
})

LEARNING_SCHEDULE_SCHEME = Scheme(
    f"{SNB}/learning-schedule/25831c2",
    {"en": "Europass Standard List of Learning Schedule Types", "lt": "Europass standartinis mokymosi grafikų sąrašas"},
)
LEARNING_SCHEDULES = _table(LEARNING_SCHEDULE_SCHEME, {
    "full-time": (f"{SNB}/learning-schedule/72a0ab92fa", "Full time", "Nuolatinės studijos"),
    "part-time-intensive": (f"{SNB}/learning-schedule/f230bae523", "Part time intensive", "Intensyvios ištęstinės studijos"),
    "part-time-light": (f"{SNB}/learning-schedule/67395e6b5a", "Part time light", "Lengvesnės ištęstinės studijos"),
})

LEARNING_SETTING_SCHEME = Scheme(
    f"{SNB}/learning-setting/25831c2",
    {"en": "Europass Standard List of Learning Setting Types", "lt": "Europass standartinis mokymosi aplinkų sąrašas"},
)
LEARNING_SETTINGS = _table(LEARNING_SETTING_SCHEME, {
    "formal": (f"{SNB}/learning-setting/6fd4685715", "formal learning", "formalusis mokymasis"),
    "non-formal": (f"{SNB}/learning-setting/e207a81fc7", "non-formal learning", "neformalusis mokymasis"),
})

# ECTS, the framework of every credit point we write (the v3 sample and the QDR's credit-points list).
ECTS = Concept(
    Scheme(f"{SNB}/education-credit/25831c2", {"en": "Education credit", "lt": "Mokymosi kreditai"}),
    f"{SNB}/education-credit/6fcec5c5af",
    {"en": "European Credit Transfer System", "lt": "Europos kreditų perkėlimo ir kaupimo sistema"},
)

CURRENCY_SCHEME = Scheme(f"{AUTHORITY}/currency", {"en": "Currency", "lt": "Valiuta"}, notation="currency")


def currency(code: str) -> Concept:
    """An ISO 4217 currency of the EU authority list; its label is the code (EUR reads the same everywhere)."""
    return Concept(CURRENCY_SCHEME, f"{AUTHORITY}/currency/{code}", {"en": code, "lt": code})


def country(code: str) -> Concept:
    """A country of the EU authority list; a code we have no label for is labelled by itself."""
    return COUNTRIES.get(code) or Concept(COUNTRY_SCHEME, f"{AUTHORITY}/country/{code}", {"en": code})


def isced_f(code: str) -> Concept:
    """An ISCED-F 2013 field; a code we have no label for is still a valid reference, labelled by itself."""
    return ISCED_F.get(code) or Concept(ISCED_F_SCHEME, f"{SNB}/isced-f/{code}", {"en": code})


# Words of the notes a course description's Europass export carries (their subjects are fixed, as above).
NOTE_SUBJECTS_EXPORT = MappingProxyType({
    **NOTE_SUBJECTS,
    "stackability_towards": "Stackable towards",
    "valid_for": "Validity of the credential",
    "prerequisites": "Entry requirements",
    "admission_procedure": "Admission procedure",
    "schedule_information": "Schedule",
})
VALID_FOR_WORDS = MappingProxyType({
    "en": "A credential for this course stays valid for {duration} (ISO 8601) after it is issued.",
    "lt": "Šio kurso kredencialas galioja {duration} (ISO 8601) nuo išdavimo.",
})
