"""Every word a person reads about a credential, in English and Lithuanian.

The public page and the PDF take their labels and vocabulary from here, so a credential never
reads differently on paper than on screen, and a translator edits one file.
"""
from __future__ import annotations

LANGUAGES = ("en", "lt")
DEFAULT_LANGUAGE = "en"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "document_title": "European Digital Credential",
        "learner": "Awarded to",
        "title": "Title",
        "issuer": "Issued by",
        "awarding_body": "Awarding body",
        "issued": "Date of issue",
        "awarded": "Date of award",
        "valid_until": "Valid until",
        "description": "About this credential",
        "learning_outcomes": "Learning outcomes",
        "ects": "Workload (ECTS credits)",
        "hours": "Notional hours",
        "eqf_level": "EQF level",
        "assessment": "Type of assessment",
        "grade": "Grade",
        "participation": "Form of participation",
        "supervision": "Supervision and identity verification",
        "quality_assurance": "Type of quality assurance",
        "quality_assurance_body": "Quality assurance body",
        "stackability": "Stackability",
        "further_information": "Further information",
        "credential_id": "Credential identifier",
        "verification": "Verification",
        "sealed_at": "Sealed at",
        "sealed_by": "Sealed by",
        "verify_at": "Verify this credential at",
        "scan_to_verify": "Scan to verify",
        "not_stated": "not stated",
        "ects_value": "{ects} ECTS",
        "eqf_value": "Level {level}",
        "problems": "Problems found",
    },
    "lt": {
        "document_title": "Europos skaitmeninis kredencialas",
        "learner": "Suteikta",
        "title": "Pavadinimas",
        "issuer": "Išdavė",
        "awarding_body": "Suteikianti institucija",
        "issued": "Išdavimo data",
        "awarded": "Suteikimo data",
        "valid_until": "Galioja iki",
        "description": "Apie šį kredencialą",
        "learning_outcomes": "Studijų rezultatai",
        "ects": "Darbo krūvis (ECTS kreditai)",
        "hours": "Valandų skaičius",
        "eqf_level": "EKS lygis",
        "assessment": "Vertinimo būdas",
        "grade": "Įvertinimas",
        "participation": "Dalyvavimo forma",
        "supervision": "Priežiūra ir tapatybės patikrinimas",
        "quality_assurance": "Kokybės užtikrinimo būdas",
        "quality_assurance_body": "Kokybės užtikrinimo institucija",
        "stackability": "Derinamumas",
        "further_information": "Papildoma informacija",
        "credential_id": "Kredencialo identifikatorius",
        "verification": "Patikrinimas",
        "sealed_at": "Užantspauduota",
        "sealed_by": "Užantspaudavo",
        "verify_at": "Patikrinkite šį kredencialą adresu",
        "scan_to_verify": "Nuskenuokite, kad patikrintumėte",
        "not_stated": "nenurodyta",
        "ects_value": "{ects} ECTS",
        "eqf_value": "{level} lygis",
        "problems": "Rastos problemos",
    },
}

VERDICTS: dict[str, dict[str, str]] = {
    "en": {
        "valid": "Valid: this credential is intact and sealed by a trusted issuer.",
        "not_valid": "Not valid: the seal could not be confirmed.",
        "revoked": "Revoked: the issuer has withdrawn this credential.",
        "unchecked": "Not checked: the seal of this copy was not verified.",
        "revoked_reason": "Reason given by the issuer",
        "revoked_at": "Revoked on",
        "untrusted": "The seal does not hold, so nothing shown below can be relied on.",
        "qualified": "Qualified electronic seal (EU trusted lists)",
        "not_qualified": "Not a qualified electronic seal (EU trusted lists)",
    },
    "lt": {
        "valid": "Galioja: kredencialas nepakeistas ir užantspauduotas patikimo išdavėjo.",
        "not_valid": "Negalioja: antspaudo patvirtinti nepavyko.",
        "revoked": "Atšauktas: išdavėjas šį kredencialą atšaukė.",
        "unchecked": "Nepatikrinta: šios kopijos antspaudas netikrintas.",
        "revoked_reason": "Išdavėjo nurodyta priežastis",
        "revoked_at": "Atšaukta",
        "untrusted": "Antspaudas negalioja, todėl žemiau pateikta informacija negalima pasikliauti.",
        "qualified": "Kvalifikuotas elektroninis spaudas (ES patikimi sąrašai)",
        "not_qualified": "Nekvalifikuotas elektroninis spaudas (ES patikimi sąrašai)",
    },
}


def language(lang: str | None) -> str:
    """The language we can show for a requested one: ours if we have it, else English."""
    code = (lang or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def label(key: str, lang: str) -> str:
    return LABELS[language(lang)].get(key) or LABELS[DEFAULT_LANGUAGE][key]


def term(vocabulary: str, code: str | None, lang: str) -> str | None:
    """A coded value of the course description in plain words, with the very labels the EDC builder
    writes into the credential (bridge.edc.vocabularies), so the page never contradicts the file.
    An unknown code is shown as it is rather than hidden."""
    if not code:
        return None
    from bridge.edc import vocabularies as v

    lang = language(lang)
    tables = {"assessment": v.ASSESSMENT_TYPES, "participation": v.LEARNING_MODES, "supervision": v.SUPERVISION}
    concept = tables.get(vocabulary, {}).get(code)
    if concept is not None:
        text = concept.label(lang) or concept.label("en")
    else:
        plain = {"supervision": v.SUPERVISION_WITHOUT_CODE, "stackability": v.STACKABILITY}.get(vocabulary, {})
        words = plain.get(code)
        text = (words.get(lang) or words.get("en")) if words else code
    return text[:1].upper() + text[1:]


def verdict_text(state: str, lang: str) -> str:
    return VERDICTS[language(lang)][state]
