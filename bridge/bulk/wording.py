"""Every word of the bulk cohort feature, in English and Lithuanian: the template's column labels and
notes, the problems a cell can have, and the staff pages' texts (bridge/web/i18n.py merges `PAGE`).

Kept here, below the web layer, because the template, the refused-rows file and the CLI say the same
things as the pages do: one table, so a label never reads differently in the file and on the page.
"""
from __future__ import annotations

LANGUAGES = ("en", "lt")

# column key -> (label, note) per language; the note goes on the template's instructions sheet
COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "given_names": {"en": ("Given names", "Required. As on the learner's identity document."),
                    "lt": ("Vardai", "Privaloma. Kaip asmens dokumente.")},
    "family_name": {"en": ("Family name", "Required."), "lt": ("Pavardė", "Privaloma.")},
    "email": {"en": ("E-mail", "Required. The credential is mailed here."),
              "lt": ("El. paštas", "Privaloma. Kredencialas siunčiamas šiuo adresu.")},
    "lang": {"en": ("Language", "Optional. The learner's language, one of: {languages} (empty: {primary})."),
             "lt": ("Kalba", "Neprivaloma. Besimokančiojo kalba, viena iš: {languages} (tuščia: {primary}).")},
    "completed_on": {"en": ("Completion date", "Required. YYYY-MM-DD, not in the future."),
                     "lt": ("Baigimo data", "Privaloma. MMMM-MM-DD, ne ateityje.")},
    "grade": {"en": ("Grade", "Optional. As the course grades (at most 64 characters)."),
              "lt": ("Įvertinimas", "Neprivaloma. Kaip kursas vertina (ne daugiau kaip 64 ženklai).")},
    "learner_id": {"en": ("Learner identifier", "Optional. The university's own identifier of the learner "
                                                "(e.g. student number): letters, digits and . _ : @ -"),
                   "lt": ("Besimokančiojo identifikatorius", "Neprivaloma. Universiteto suteiktas identifikatorius "
                                                             "(pvz., studento numeris): raidės, skaitmenys ir . _ : @ -")},
}

PROBLEMS: dict[str, dict[str, str]] = {
    "en": {
        "missing": "missing: this column is required",
        "missing_column": "the file has no such column: use the template",
        "too_long": "longer than {limit} characters",
        "control": "holds control characters (line breaks, tabs)",
        "formula": "formula or macro content: write the value itself",
        "email": "not an e-mail address (ASCII, name@host.domain)",
        "date": "not a date: write it as YYYY-MM-DD",
        "future": "in the future: the completion must have happened",
        "too_old": "before 1970-01-01",
        "language": "unknown language {value!r}: use one of {languages}",
        "identifier": "an identifier is 1 to 58 ASCII letters, digits or . _ : @ -, starting with a letter or digit",
        "duplicate": "the same learner as row {first}",
        "example": "this is the template's example row: replace or delete it",
        "intake": "refused by the intake: {detail}",
    },
    "lt": {
        "missing": "trūksta: šis stulpelis privalomas",
        "missing_column": "faile nėra šio stulpelio: naudokite šabloną",
        "too_long": "ilgesnis nei {limit} ženklų",
        "control": "yra valdymo ženklų (eilučių lūžių, tabuliacijų)",
        "formula": "formulė arba makrokomanda: įrašykite pačią reikšmę",
        "email": "ne el. pašto adresas (ASCII, vardas@serveris.domenas)",
        "date": "ne data: rašykite MMMM-MM-DD",
        "future": "ateityje: kursas turi būti jau baigtas",
        "too_old": "anksčiau nei 1970-01-01",
        "language": "nežinoma kalba {value!r}: naudokite vieną iš {languages}",
        "identifier": "identifikatorius – 1–58 ASCII raidės, skaitmenys ar . _ : @ -, pradedant raide ar skaitmeniu",
        "duplicate": "tas pats besimokantysis kaip {first} eilutėje",
        "example": "tai šablono pavyzdžio eilutė: pakeiskite arba ištrinkite ją",
        "intake": "priėmimas atmetė: {detail}",
    },
}

# Why a whole file is refused (before any row is looked at)
REFUSALS: dict[str, dict[str, str]] = {
    "en": {
        "empty": "the file is empty",
        "too_big": "it is larger than {limit} (EDC_BULK_MAX_UPLOAD_BYTES)",
        "not_spreadsheet": "it is neither an XLSX workbook nor a CSV text file",
        "old_excel": "it is an old .xls workbook or a password-protected one: save it as .xlsx (without a password) or CSV",
        "ods": "it is an OpenDocument spreadsheet: save it as .xlsx or CSV",
        "damaged": "it is a damaged XLSX (zip) file",
        "not_workbook": "it is a zip file but not an XLSX workbook",
        "macros": "it contains macros (VBA or ActiveX): save it as a plain .xlsx workbook (not .xlsm)",
        "external_links": "it links to other workbooks (external links): copy the values in and remove the links",
        "too_many_parts": "it has more than {limit} parts inside, more than any spreadsheet",
        "unpacked_too_big": "its contents unpack to more than {limit} (EDC_BULK_MAX_UNPACKED_BYTES)",
        "ratio": "a part of it compresses {ratio}:1, far more than a spreadsheet does (a zip bomb)",
        "sizes_lie": "a part's declared size does not match what it unpacks to",
        "dtd": "it holds XML document type declarations, which no spreadsheet needs (entity expansion)",
        "unreadable": "the workbook cannot be read ({detail})",
        "too_many_rows": "it has more than {limit} learner rows (EDC_BULK_MAX_ROWS): split it into several files",
        "huge_cell": "a cell holds more than {limit} characters (row {row})",
        "no_header": "no header row: the first row must hold the template's column names",
        "no_columns": "the header names none of the template's columns (given names, family name, e-mail, ...)",
        "no_rows": "it has a header but no learner rows",
    },
    "lt": {
        "empty": "failas tuščias",
        "too_big": "jis didesnis nei {limit} (EDC_BULK_MAX_UPLOAD_BYTES)",
        "not_spreadsheet": "tai nei XLSX darbaknygė, nei CSV tekstinis failas",
        "old_excel": "tai senas .xls arba slaptažodžiu apsaugotas failas: išsaugokite jį kaip .xlsx (be slaptažodžio) arba CSV",
        "ods": "tai OpenDocument skaičiuoklė: išsaugokite ją kaip .xlsx arba CSV",
        "damaged": "tai sugadintas XLSX (zip) failas",
        "not_workbook": "tai zip failas, bet ne XLSX darbaknygė",
        "macros": "jame yra makrokomandų (VBA ar ActiveX): išsaugokite kaip paprastą .xlsx darbaknygę (ne .xlsm)",
        "external_links": "jis susietas su kitomis darbaknygėmis (išorinės nuorodos): įrašykite reikšmes ir pašalinkite nuorodas",
        "too_many_parts": "jame daugiau nei {limit} dalių – daugiau nei bet kurioje skaičiuoklėje",
        "unpacked_too_big": "išpakuotas turinys didesnis nei {limit} (EDC_BULK_MAX_UNPACKED_BYTES)",
        "ratio": "viena jo dalis suspausta {ratio}:1 – daug daugiau nei skaičiuoklė (zip bomba)",
        "sizes_lie": "dalies nurodytas dydis neatitinka išpakuoto turinio",
        "dtd": "jame yra XML dokumento tipo deklaracijų, kurių jokiai skaičiuoklei nereikia",
        "unreadable": "darbaknygės nepavyksta perskaityti ({detail})",
        "too_many_rows": "jame daugiau nei {limit} besimokančiųjų eilučių (EDC_BULK_MAX_ROWS): padalykite į kelis failus",
        "huge_cell": "langelyje daugiau nei {limit} ženklų ({row} eilutė)",
        "no_header": "nėra antraštės eilutės: pirmoje eilutėje turi būti šablono stulpelių pavadinimai",
        "no_columns": "antraštėje nėra nė vieno šablono stulpelio (vardai, pavardė, el. paštas, ...)",
        "no_rows": "yra antraštė, bet nėra besimokančiųjų eilučių",
    },
}

# Texts of the files and the CLI (not the pages)
FILE: dict[str, dict[str, str]] = {
    "en": {"sheet_learners": "Learners", "sheet_instructions": "Instructions", "problems": "Problems",
           "row": "Row", "column": "Column", "note": "How to fill it in",
           "intro": "One row per learner of {course}. The first row is the header; the second is an example: "
                    "replace or delete it. Save as .xlsx or .csv (UTF-8).",
           "outcome": "Outcome", "status": "Status", "credential": "Credential", "issuance": "Issuance"},
    "lt": {"sheet_learners": "Besimokantieji", "sheet_instructions": "Nurodymai", "problems": "Klaidos",
           "row": "Eilutė", "column": "Stulpelis", "note": "Kaip pildyti",
           "intro": "Po vieną eilutę kiekvienam kurso „{course}“ besimokančiajam. Pirma eilutė – antraštė, antra – "
                    "pavyzdys: pakeiskite arba ištrinkite ją. Išsaugokite .xlsx arba .csv (UTF-8) formatu.",
           "outcome": "Rezultatas", "status": "Būsena", "credential": "Kredencialas", "issuance": "Išdavimas"},
}

# The example row, in each language (the e-mail is recognisable: the row is refused if left in)
EXAMPLE: dict[str, dict[str, str]] = {
    "en": {"given_names": "Jane", "family_name": "Example", "email": "jane.example@example.invalid", "grade": "A",
           "learner_id": "S0000001"},
    "lt": {"given_names": "Ona", "family_name": "Pavyzdytė", "email": "ona.pavyzdyte@example.invalid", "grade": "10",
           "learner_id": "S0000001"},
}
EXAMPLE_EMAILS = frozenset(e["email"] for e in EXAMPLE.values())

# The staff pages (bridge/web/i18n.py adds them to its catalogue)
PAGE: dict[str, dict[str, str]] = {
    "en": {
        "nav_bulk": "Bulk issue",
        "bulk_title": "Issue to a cohort from a spreadsheet",
        "bulk_intro": "Download a course's template, fill in one row per learner, upload it. Nothing is issued "
                      "before you have seen the check and chosen to issue.",
        "bulk_templates": "Templates",
        "bulk_no_courses": "No course has a complete credential description yet.",
        "bulk_upload": "Upload a filled-in template",
        "bulk_course": "Course",
        "bulk_file": "File (.xlsx or .csv)",
        "bulk_check_button": "Check the file",
        "bulk_no_file": "Choose a file.",
        "bulk_no_course": "Choose a course with a complete credential description.",
        "bulk_refused_file": "The file was refused: {reason}",
        "bulk_recent": "Recent uploads",
        "bulk_preview": "Check of {filename}",
        "bulk_summary": "{total} rows: {valid} can be issued, {refused} have problems.",
        "bulk_known": "{known} of the valid rows were issued before (same learner and completion): they will not be issued again.",
        "bulk_all_known": "Every valid row was issued before: issuing this file again issues nothing new.",
        "bulk_problems": "Problems, by row and column",
        "bulk_problems_capped": "The first {shown} of {count} problems; the refused-rows file has all of them.",
        "bulk_no_problems": "No problems found.",
        "bulk_issue_all": "Issue {count} credentials",
        "bulk_issue_valid": "Issue the {count} valid rows only",
        "bulk_issue_nothing": "No row can be issued.",
        "bulk_refused_download": "Download the refused rows to fix and upload again",
        "bulk_issued_flash": "{created} new issuances queued; {duplicates} were issued before and are not issued again.",
        "bulk_nothing_new": "Nothing new: every row of this file was issued before.",
        "bulk_already": "This file's batch was already issued.",
        "bulk_needs_choice": "Nothing issued: some rows have problems. Fix the file, or choose to issue the valid rows only.",
        "bulk_progress": "Issuing {filename}",
        "bulk_progress_refresh": "This page refreshes itself every few seconds until every credential is out.",
        "bulk_report": "Report for {filename}",
        "bulk_finished": "Finished: every credential of this batch is delivered, or stopped with a reason below.",
        "bulk_results_download": "Download the results per row (CSV)",
        "bulk_state_queued": "waiting to be sealed",
        "bulk_state_sealing": "being sealed",
        "bulk_state_issued": "sealed, being mailed",
        "bulk_state_delivered": "sealed and delivered",
        "bulk_state_parked": "parked (the description is incomplete)",
        "bulk_state_failed": "failed",
        "bulk_state_revoked": "revoked",
        "bulk_new_count": "New issuances",
        "bulk_duplicate_count": "Issued before (not again)",
        "bulk_refused_count": "Refused rows",
        "bulk_col_row": "Row",
        "bulk_col_column": "Column",
        "bulk_col_problem": "Problem",
        "bulk_col_file": "File",
        "bulk_col_rows": "Rows",
        "bulk_col_state": "State",
        "bulk_col_uploaded": "Uploaded",
        "bulk_batch_checked": "checked",
        "bulk_batch_issuing": "issuing",
        "bulk_batch_issued": "issued",
        "bulk_sealed": "Sealed",
        "bulk_handed": "Handed to the intake",
        "bulk_handing_over": "Issuing {count} rows: they are being handed to the intake, and sealing has begun.",
        "bulk_stalled": "Handing this batch to the intake stopped part-way.",
        "bulk_resume": "Continue issuing",
        "bulk_done": "Delivered or stopped",
    },
    "lt": {
        "nav_bulk": "Masinis išdavimas",
        "bulk_title": "Išduoti grupei pagal skaičiuoklę",
        "bulk_intro": "Atsisiųskite kurso šabloną, įrašykite po eilutę kiekvienam besimokančiajam ir įkelkite. "
                      "Niekas neišduodama, kol nepamatysite patikros ir nepasirinksite išduoti.",
        "bulk_templates": "Šablonai",
        "bulk_no_courses": "Dar nė vienas kursas neturi išsamaus kredencialo aprašo.",
        "bulk_upload": "Įkelti užpildytą šabloną",
        "bulk_course": "Kursas",
        "bulk_file": "Failas (.xlsx arba .csv)",
        "bulk_check_button": "Patikrinti failą",
        "bulk_no_file": "Pasirinkite failą.",
        "bulk_no_course": "Pasirinkite kursą su išsamiu kredencialo aprašu.",
        "bulk_refused_file": "Failas atmestas: {reason}",
        "bulk_recent": "Paskutiniai įkėlimai",
        "bulk_preview": "Failo {filename} patikra",
        "bulk_summary": "{total} eil.: {valid} galima išduoti, {refused} turi klaidų.",
        "bulk_known": "{known} tinkamos eilutės jau buvo išduotos (tas pats besimokantysis ir baigimas): jos nebus išduotos dar kartą.",
        "bulk_all_known": "Visos tinkamos eilutės jau buvo išduotos: išdavus šį failą dar kartą, nieko naujo neišduodama.",
        "bulk_problems": "Klaidos pagal eilutę ir stulpelį",
        "bulk_problems_capped": "Pirmosios {shown} iš {count} klaidų; atmestų eilučių faile yra visos.",
        "bulk_no_problems": "Klaidų nerasta.",
        "bulk_issue_all": "Išduoti {count} kredencialus",
        "bulk_issue_valid": "Išduoti tik {count} tinkamas eilutes",
        "bulk_issue_nothing": "Nė vienos eilutės negalima išduoti.",
        "bulk_refused_download": "Atsisiųsti atmestas eilutes, kad ištaisytumėte ir įkeltumėte vėl",
        "bulk_issued_flash": "{created} nauji išdavimai eilėje; {duplicates} jau buvo išduoti ir dar kartą neišduodami.",
        "bulk_nothing_new": "Nieko naujo: visos šio failo eilutės jau buvo išduotos.",
        "bulk_already": "Šio failo paketas jau išduotas.",
        "bulk_needs_choice": "Niekas neišduota: kai kuriose eilutėse yra klaidų. Ištaisykite failą arba pasirinkite išduoti tik tinkamas eilutes.",
        "bulk_progress": "Išduodama: {filename}",
        "bulk_progress_refresh": "Šis puslapis atsinaujina kas kelias sekundes, kol bus išsiųsti visi kredencialai.",
        "bulk_report": "Ataskaita: {filename}",
        "bulk_finished": "Baigta: visi šio paketo kredencialai pristatyti arba sustabdyti dėl toliau nurodytos priežasties.",
        "bulk_results_download": "Atsisiųsti kiekvienos eilutės rezultatus (CSV)",
        "bulk_state_queued": "laukia antspaudo",
        "bulk_state_sealing": "antspauduojama",
        "bulk_state_issued": "užantspauduota, siunčiama",
        "bulk_state_delivered": "užantspauduota ir pristatyta",
        "bulk_state_parked": "sustabdyta (aprašas neišsamus)",
        "bulk_state_failed": "nepavyko",
        "bulk_state_revoked": "atšaukta",
        "bulk_new_count": "Nauji išdavimai",
        "bulk_duplicate_count": "Jau išduota (ne dar kartą)",
        "bulk_refused_count": "Atmestos eilutės",
        "bulk_col_row": "Eilutė",
        "bulk_col_column": "Stulpelis",
        "bulk_col_problem": "Klaida",
        "bulk_col_file": "Failas",
        "bulk_col_rows": "Eilutės",
        "bulk_col_state": "Būsena",
        "bulk_col_uploaded": "Įkelta",
        "bulk_batch_checked": "patikrintas",
        "bulk_batch_issuing": "išduodamas",
        "bulk_batch_issued": "išduotas",
        "bulk_sealed": "Užantspauduota",
        "bulk_handed": "Perduota priėmimui",
        "bulk_handing_over": "Išduodamos {count} eilutės: jos perduodamos priėmimui, antspaudavimas pradėtas.",
        "bulk_stalled": "Šio paketo perdavimas sustojo pusiaukelėje.",
        "bulk_resume": "Tęsti išdavimą",
        "bulk_done": "Pristatyta arba sustabdyta",
    },
}


def language(lang: str | None) -> str:
    """`lang` when this table has it, else English."""
    return lang if lang in LANGUAGES else "en"


def label(column: str, lang: str) -> str:
    return COLUMNS[column][language(lang)][0]


def problem_text(code: str, lang: str, **values: object) -> str:
    """The problem `code` in `lang`, its values filled in."""
    text = PROBLEMS[language(lang)].get(code) or PROBLEMS["en"][code]
    return text.format(**values) if values else text


def file_text(key: str, lang: str, **values: object) -> str:
    text = FILE[language(lang)][key]
    return text.format(**values) if values else text


def refusal_text(code: str, lang: str, **values: object) -> str:
    text = REFUSALS[language(lang)].get(code) or REFUSALS["en"][code]
    return text.format(**values) if values else text
