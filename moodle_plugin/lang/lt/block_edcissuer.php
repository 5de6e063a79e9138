<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * Lithuanian strings of block_edcissuer.
 *
 * @package    block_edcissuer
 * @category   string
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['pluginname'] = 'Europos skaitmeniniai kredencialai';
$string['edcissuer:addinstance'] = 'Pridėti Europos skaitmeninių kredencialų bloką';
$string['edcissuer:myaddinstance'] = 'Pridėti Europos skaitmeninių kredencialų bloką į Pradžios puslapį';
$string['edcissuer:issue'] = 'Išduoti kredencialus besimokantiesiems ir matyti jų būseną';
$string['edcissuer:managespec'] = 'Redaguoti kurso kredencialo aprašą';
$string['edcissuer:viewown'] = 'Matyti ir atsisiųsti savo kredencialus';
$string['edcissuer:addtowallet'] = 'Įtraukti savo kredencialus į skaitmeninę piniginę';
$string['edcissuer:storecredential'] = 'Įrašyti kredencialus ir būsenas (pagalbinės tarnybos žiniatinklio paslaugos naudotojas)';

// Nustatymai.
$string['settings_sidecar'] = 'Kredencialų tarnyba';
$string['settings_sidecar_desc'] = 'Tarnyba (sidecar) sudaro, užantspauduoja ir pristato kredencialus. Moodle siunčia jai pasirašytus įvykius (kursas baigtas, paprašyta išduoti) ir kursų kredencialų aprašus; tarnyba atsako per žiniatinklio paslaugą „EDC sidecar“.';
$string['settings_sidecarurl'] = 'Tarnybos URL';
$string['settings_sidecarurl_desc'] = 'Tarnybos bazinis URL, pvz., https://edc.example.edu (be /api pabaigoje).';
$string['settings_keyid'] = 'Rakto identifikatorius';
$string['settings_keyid_desc'] = 'Bendros paslapties identifikatorius, toks pat kaip tarnybos nustatymuose (EDC_INTAKE_KEYS, „keyid=secret“).';
$string['settings_secret'] = 'Bendra paslaptis';
$string['settings_secret_desc'] = 'Paslaptis, kuria pasirašoma kiekviena užklausa tarnybai (HMAC-SHA256). Ji pati niekada nesiunčiama. Naudokite ilgą atsitiktinę reikšmę, pvz., „openssl rand -hex 32“.';
$string['settings_siteid'] = 'Svetainės identifikatorius';
$string['settings_siteid_desc'] = 'Pagal jį tarnyba atskiria šį Moodle nuo kitų: jis yra kiekvieno įvykio identifikatoriaus ir kurso aprašo adreso dalis. Nekeiskite jo, kai kredencialai jau išduoti.';
$string['settings_autoissue'] = 'Išduoti automatiškai baigus kursą';
$string['settings_autoissue_desc'] = 'Kai besimokantysis baigia kursą, paprašyti tarnybos išduoti jo kredencialą. Išjungus – tik dėstytojo mygtukas „Išduoti kredencialą“.';
$string['settings_defaultlang'] = 'Numatytoji kredencialo kalba';
$string['settings_defaultlang_desc'] = 'Naujų kursų aprašų kalba ir kredencialų kalba besimokantiesiems, kurių Moodle kalba nėra nei anglų, nei lietuvių.';
$string['settings_httpsecurity'] = 'Tarnyba privačiu adresu ar prievadu';
$string['settings_httpsecurity_desc'] = 'Moodle pagal nutylėjimą neleidžia išeinančių HTTP užklausų į privačius ir vietinius (loopback) adresus bei prievadus, kitus nei 80 ir 443. Jei tarnyba veikia tokiu adresu (pvz., 10.0.0.5, 127.0.0.1, localhost) ar prievadu (pvz., 8080), pašalinkite atitinkamą įrašą iš <a href="{$a->blockedhosts}">cURL blokuojamų kompiuterių sąrašo (curlsecurityblockedhosts)</a> – 127.0.0.1 atveju ir „127.0.0.0/8“, ir „localhost“ – ir įrašykite prievadą į <a href="{$a->allowedport}">cURL leidžiamų prievadų sąrašą (curlsecurityallowedport)</a>. Kol užklausos blokuojamos, siuntimas nepavyksta su pranešimu „The URL is blocked.“ dėstytojo puslapyje ir užduočių žurnale.';
$string['lang_en'] = 'Anglų';
$string['lang_lt'] = 'Lietuvių';

// Blokas.
$string['mycredentials'] = 'Mano kredencialai';
$string['nocredentials'] = 'Kredencialų dar nėra.';
$string['download'] = 'Atsisiųsti';
$string['verify'] = 'Patikrinti';
$string['formatlabel_edcxml'] = 'EDC v1 XML';
$string['formatlabel_elm3jsonld'] = 'ELM v3 JSON-LD';
$string['formatlabel_ob3vcjwt'] = 'Open Badges 3.0 (VC-JWT)';
$string['formatlabel_unknown'] = 'nežinomas formatas';
$string['specpage'] = 'Kredencialo aprašas';
$string['issuepage'] = 'Kredencialų išdavimas';

// Būsenos.
$string['status_notissued'] = 'Neišduotas';
$string['status_queued'] = 'Eilėje';
$string['status_issued'] = 'Išduotas';
$string['status_delivered'] = 'Pristatytas';
$string['status_failed'] = 'Nepavyko';
$string['status_revoked'] = 'Atšauktas';
$string['status_parked'] = 'Reikia dėmesio';

// Dėstytojo puslapis.
$string['learner'] = 'Besimokantysis';
$string['completion'] = 'Kurso baigimas';
$string['completedon'] = 'Baigė {$a}';
$string['notcompleted'] = 'Nebaigė';
$string['credentialstatus'] = 'Kredencialas';
$string['statustime'] = 'Nuo';
$string['issuecredential'] = 'Išduoti kredencialą';
$string['issueallcompleted'] = 'Išduoti visiems baigusiems';
$string['nolearners'] = 'Šiame kurse nėra įrašytų besimokančiųjų.';
$string['nonechosen'] = 'Nepasirinktas nė vienas besimokantysis.';
$string['refreshing'] = 'Kol yra užklausų eilėje, puslapis atsinaujina kas kelias sekundes.';
$string['syncfailed'] = 'Nepavyko gauti naujausių būsenų iš tarnybos: {$a}. Rodomos paskutinės Moodle gautos būsenos.';
$string['tasksendevent'] = 'Siųsti kredencialo užklausą EDC tarnybai';

// Kurso kredencialo aprašo forma.
$string['inlanguage'] = '{$a->label} ({$a->language})';
$string['notset'] = '(nenurodyta)';
$string['savesend'] = 'Įrašyti ir siųsti tarnybai';
$string['specaccepted'] = 'Kredencialo aprašas įrašytas, tarnyba jį priėmė.';
$string['specrefused'] = 'Įrašyta Moodle, bet tarnyba rado problemų: {$a}; žr. pažymėtus laukus. Kredencialų negalima išduoti, kol tarnyba nepriims aprašo.';
$string['specstillrefused'] = 'Tarnyba atmetė paskutinę įrašytą versiją; žr. pažymėtus laukus.';
$string['specnotsent'] = 'Įrašyta Moodle, bet neišsiųsta tarnybai: {$a}. Įrašykite dar kartą, kai ji bus pasiekiama.';
$string['specnotyetsent'] = 'Šis aprašas dar nepasiekė tarnybos. Įrašykite jį dar kartą, kad išsiųstumėte.';
$string['section_general'] = 'Pavadinimas ir aprašymas';
$string['section_issuer'] = 'Išdavėjas';
$string['section_awarding_body'] = 'Suteikianti institucija';
$string['section_learning_outcomes'] = 'Studijų rezultatai';
$string['section_workload'] = 'Apimtis ir lygis';
$string['section_assessment'] = 'Vertinimas';
$string['section_participation'] = 'Dalyvavimo forma ir reikalavimai';
$string['section_quality_assurance'] = 'Kokybės užtikrinimas';
$string['section_more'] = 'Derinimas ir papildoma informacija';
$string['primary_language'] = 'Pagrindinė kalba';
$string['primary_language_help'] = 'Kalba, kuria turi būti užpildyti visi tekstai. Kita kalba neprivaloma, bet rekomenduojama.';
$string['code'] = 'Kurso kodas';
$string['title'] = 'Mikrokredencialo pavadinimas';
$string['description'] = 'Aprašymas';
$string['homepage'] = 'Kurso tinklalapis';
$string['valid_for'] = 'Galioja (ISO 8601 trukmė, pvz., P5Y; tuščia – neribotai)';
$string['awarding_body_same'] = 'Suteikianti institucija yra išdavėjas';
$string['org_name'] = 'Pavadinimas';
$string['org_legal_identifier'] = 'Juridinio asmens kodas';
$string['org_vat_identifier'] = 'PVM mokėtojo kodas';
$string['org_country'] = 'Šalis (ISO 3166-1 alpha-3, pvz., LTU)';
$string['org_region'] = 'Regionas (NUTS kodas, pvz., LT011)';
$string['org_homepage'] = 'Tinklalapis';
$string['org_email'] = 'El. paštas';
$string['org_address'] = 'Adresas';
$string['learning_outcomes_text'] = 'Studijų rezultatas';
$string['learning_outcomes_type'] = 'Rezultato rūšis';
$string['learning_outcomes_esco_skill'] = 'ESCO įgūdžio URI (neprivaloma)';
$string['learning_outcomes_add'] = 'Pridėti dar du studijų rezultatus';
$string['lotype_knowledge'] = 'Žinios';
$string['lotype_skill'] = 'Gebėjimai';
$string['lotype_responsibilityautonomy'] = 'Atsakomybė ir savarankiškumas';
$string['workload_ects'] = 'Numatoma apimtis (ECTS kreditai)';
$string['workload_hours'] = 'Numatoma apimtis (valandos)';
$string['eqf_level'] = 'EKS lygis';
$string['eqf_level_help'] = 'Mokymosi lygis pagal Europos kvalifikacijų sandarą (1–8). Bakalauro lygis – 6, magistro – 7, doktorantūros – 8.';
$string['format'] = 'Kredencialo formatas';
$string['format_edcxml'] = 'EDC v1 XML (užantspauduotas XAdES)';
$string['format_elm3jsonld'] = 'ELM v3 JSON-LD (užantspauduotas JAdES; jį priima Europass piniginės)';
$string['format_both'] = 'Abu: tas pats kredencialas kaip EDC v1 XML ir kaip ELM v3 JSON-LD (vienas laiškas, abu failai čia)';
$string['format_ob3vcjwt'] = 'Open Badges 3.0 (VC-JWT, užantspauduotas tuo pačiu raktu; jį priima Open Badges piniginės)';
$string['qf_ehea_cycle'] = 'EAERE kvalifikacijų sandaros pakopa';
$string['qf_ehea_cycle_short'] = 'Trumpoji pakopa';
$string['qf_ehea_cycle_first'] = 'Pirmoji pakopa (bakalauras)';
$string['qf_ehea_cycle_second'] = 'Antroji pakopa (magistras)';
$string['qf_ehea_cycle_third'] = 'Trečioji pakopa (doktorantūra)';
$string['isced_f'] = 'ISCED-F švietimo sritis (kodas, pvz., 0613)';
$string['assessment_type'] = 'Vertinimo tipas';
$string['assessment_type_writtenexamination'] = 'Raštu laikomas egzaminas';
$string['assessment_type_oralexamination'] = 'Žodžiu laikomas egzaminas';
$string['assessment_type_practicalassessment'] = 'Praktinis vertinimas';
$string['assessment_type_continuousevaluation'] = 'Kaupiamasis vertinimas';
$string['assessment_type_quiz'] = 'Testas';
$string['assessment_type_levelofattendance'] = 'Lankomumas';
$string['assessment_description'] = 'Vertinimo aprašymas';
$string['assessment_grading_scheme'] = 'Vertinimo skalė';
$string['supervision_and_identity_verification'] = 'Priežiūra ir tapatybės patikrinimas vertinimo metu';
$string['supervision_and_identity_verification_none'] = 'Be priežiūros ir tapatybės patikrinimo';
$string['supervision_and_identity_verification_supervisednoidverification'] = 'Prižiūrima, be tapatybės patikrinimo';
$string['supervision_and_identity_verification_supervisedwithidverification'] = 'Prižiūrima, su tapatybės patikrinimu';
$string['supervision_and_identity_verification_idverificationonly'] = 'Tik tapatybės patikrinimas';
$string['grading_scheme'] = 'Kredencialo pažymių skalė';
$string['participation_mode'] = 'Dalyvavimo forma';
$string['participation_mode_online'] = 'Nuotoliu';
$string['participation_mode_onsite'] = 'Vietoje';
$string['participation_mode_blended'] = 'Mišri';
$string['participation_description'] = 'Dalyvavimo informacija';
$string['prerequisites'] = 'Būtinos sąlygos';
$string['quality_assurance_type'] = 'Kokybės užtikrinimo tipas';
$string['quality_assurance_body'] = 'Kokybės užtikrinimo institucija';
$string['quality_assurance_url'] = 'Kokybės užtikrinimo tinklalapis';
$string['stackability_kind'] = 'Integravimas ir derinimas';
$string['stackability_kind_standalone'] = 'Savarankiškas';
$string['stackability_kind_integrated'] = 'Integruotas į kvalifikaciją';
$string['stackability_kind_stackable'] = 'Derinamas su kitu kredencialu';
$string['stackability_towards'] = 'Derinamas siekiant';
$string['further_information'] = 'Papildoma informacija';

// Klaidos.
$string['notconfigured'] = 'Tarnyba nesukonfigūruota: bloko nustatymuose nurodykite jos URL, rakto identifikatorių ir bendrą paslaptį.';
$string['sidecarunreachable'] = 'Tarnyba nepasiekiama arba atmetė užklausą: {$a}';
$string['credentialconflict'] = 'Kredencialas {$a} jau įrašytas su kitu turiniu (arba kitam besimokančiajam ar kursui); užantspauduotas failas niekada nesikeičia.';
$string['invalidstatus'] = 'Nežinoma būsena „{$a}“; tikėtasi queued, issued, delivered, failed, revoked arba parked.';
$string['invaliduser'] = 'Tokio naudotojo nėra: {$a}';
$string['invalidcourse'] = 'Tokio kurso nėra: {$a}';
$string['invalidcredentialid'] = 'credentialid: turi būti nuo 1 iki 255 simbolių.';
$string['invalidformat'] = 'format: „{$a->format}“ nėra edc-xml, elm3-jsonld ar ob3-vcjwt arba neatitinka failo vardo {$a->filename}.';
$string['invalidfilename'] = 'filename: „{$a}“ nėra paprastas failo vardas.';
$string['invalidverifyurl'] = 'verifyurl: turi būti http arba https URL.';
$string['invalidcontent'] = 'content: turi būti netuščias base64.';
$string['invaliddeliveredat'] = 'deliveredat: turi būti Unix sekundės arba 0, jei tik saugoma; gauta {$a}.';

// Privatumas.
$string['privacy:metadata:status'] = 'Kiekvieno besimokančiojo kredencialo būsena kiekviename kurse.';
$string['privacy:metadata:status:userid'] = 'Besimokantysis.';
$string['privacy:metadata:status:courseid'] = 'Kursas.';
$string['privacy:metadata:status:status'] = 'Būsena (eilėje, išduotas, pristatytas, nepavyko, atšauktas, reikia dėmesio).';
$string['privacy:metadata:status:message'] = 'Būsenos paaiškinimas, pvz., kodėl nepavyko išsiųsti.';
$string['privacy:metadata:status:credentialid'] = 'Kredencialo identifikatorius.';
$string['privacy:metadata:status:requestedby'] = 'Dėstytojas, paprašęs išduoti kredencialą.';
$string['privacy:metadata:status:timestatus'] = 'Kada pasiekta būsena.';
$string['privacy:metadata:cred'] = 'Besimokantiesiems įrašyti užantspauduoti kredencialai.';
$string['privacy:metadata:cred:userid'] = 'Besimokantysis.';
$string['privacy:metadata:cred:courseid'] = 'Kursas.';
$string['privacy:metadata:cred:credentialid'] = 'Kredencialo identifikatorius.';
$string['privacy:metadata:cred:filename'] = 'Failo vardas.';
$string['privacy:metadata:cred:verifyurl'] = 'Viešoji patikros nuoroda.';
$string['privacy:metadata:cred:timecreated'] = 'Kada įrašytas.';
$string['privacy:metadata:files'] = 'Užantspauduoti kredencialų failai, besimokančiojo asmeninėje failų srityje.';
$string['privacy:metadata:sidecar'] = 'Kad būtų išduotas kredencialas, besimokančiojo duomenys siunčiami universiteto kredencialų tarnybai, kuri sudaro, užantspauduoja ir el. paštu išsiunčia kredencialą.';
$string['privacy:metadata:sidecar:userid'] = 'Besimokančiojo Moodle naudotojo identifikatorius.';
$string['privacy:metadata:sidecar:email'] = 'Besimokančiojo el. pašto adresas (kredencialas siunčiamas juo).';
$string['privacy:metadata:sidecar:given_names'] = 'Besimokančiojo vardas.';
$string['privacy:metadata:sidecar:family_name'] = 'Besimokančiojo pavardė.';
$string['privacy:metadata:sidecar:lang'] = 'Besimokančiojo kalba.';
$string['privacy:metadata:sidecar:course'] = 'Kurso identifikatorius, trumpasis ir pilnas pavadinimas.';
$string['privacy:metadata:sidecar:completed_at'] = 'Kada besimokantysis baigė kursą.';
$string['privacy:metadata:sidecar:requested_by'] = 'Kredencialo paprašiusio dėstytojo naudotojo identifikatorius.';

// Europass course register (issue 16).
$string['section_provider'] = 'Teikėjas (Europass: tik jei kursą veda ne išdavėjas)';
$string['section_europass'] = 'Europass kursų registras';
$string['europass_intro'] = 'Neprivaloma. Ką Europass kursų registras rodo apie kurso lankymą; kredencialams to nereikia. Europass taip pat reikia kurso tinklalapio ir ISCED-F srities.';
$string['learning_opportunity_type'] = 'Mokymosi galimybės tipas';
$string['learning_opportunity_type_course'] = 'Kursas';
$string['learning_opportunity_type_mooc'] = 'Masinis atvirasis nuotolinis kursas';
$string['learning_opportunity_type_shortlearningprogramme'] = 'Trumpoji mokymosi programa';
$string['learning_opportunity_type_programmemodule'] = 'Programos modulis';
$string['learning_opportunity_type_educationalprogramme'] = 'Švietimo programa';
$string['learning_opportunity_type_class'] = 'Užsiėmimas';
$string['learning_opportunity_type_internship'] = 'Stažuotė';
$string['learning_opportunity_type_apprenticeship'] = 'Pameistrystė';
$string['learning_opportunity_type_mentoring'] = 'Mentorystė';
$string['learning_opportunity_type_studyvisit'] = 'Mokomasis vizitas';
$string['learning_opportunity_type_servicelearning'] = 'Mokymasis tarnaujant';
$string['learning_opportunity_type_thesis'] = 'Baigiamasis darbas';
$string['learning_opportunity_start_date'] = 'Pradžios data (MMMM-MM-DD)';
$string['learning_opportunity_end_date'] = 'Pabaigos data (MMMM-MM-DD)';
$string['learning_opportunity_application_deadline'] = 'Paraiškų teikimo terminas (MMMM-MM-DD)';
$string['learning_opportunity_duration'] = 'Trukmė (pvz., P3M arba P42D)';
$string['learning_opportunity_schedule'] = 'Mokymosi grafikas';
$string['learning_opportunity_schedule_fulltime'] = 'Nuolatinės studijos';
$string['learning_opportunity_schedule_parttimeintensive'] = 'Ištęstinės, intensyvios';
$string['learning_opportunity_schedule_parttimelight'] = 'Ištęstinės, lengvesnės';
$string['learning_opportunity_setting'] = 'Mokymosi aplinka';
$string['learning_opportunity_setting_formal'] = 'Formalusis mokymasis';
$string['learning_opportunity_setting_nonformal'] = 'Neformalusis mokymasis';
$string['learning_opportunity_price_amount'] = 'Kaina (0, jei nemokamas)';
$string['learning_opportunity_price_currency'] = 'Valiuta (ISO 4217, pvz., EUR)';
$string['learning_opportunity_price_description'] = 'Mokesčiai, stipendijos ir subsidijos';
$string['learning_opportunity_admission_procedure'] = 'Kaip užsiregistruoti';
$string['learning_opportunity_schedule_information'] = 'Tvarkaraštis';
$string['europassexport'] = 'Eksportuoti į Europass';
$string['europass_qdr'] = 'QDR XML (kursų registrui)';
$string['europass_elm3'] = 'ELM v3 JSON-LD';
$string['europassrefused'] = 'Neeksportuota: Europass šio aprašo nepriimtų. Trūksta arba neteisinga: {$a}';
$string['europassnotreached'] = 'Neeksportuota: nepavyko susisiekti su šonine paslauga: {$a}';

// Besimokančiojo pusė, Moodle įvykiai ir dėstytojo puslapis (14 užduotis).
$string['status_superseded'] = 'Pakeistas';
$string['allmycredentials'] = 'Visi mano kredencialai';
$string['printablepdf'] = 'PDF spausdinti';
$string['revokedreason'] = 'Priežastis: {$a}';
$string['supersededexplained'] = 'Pakeistas pataisytu kredencialu, kuris taip pat čia rodomas.';
$string['share'] = 'Bendrinti';
$string['stopsharing'] = 'Nebebendrinti';
$string['sharedon'] = 'Bendrinamas: jį mato kiekvienas, turintis nuorodą.';
$string['sharehint'] = 'Pasidalykite juo, kad gautumėte viešą nuorodą darbdaviams ir galėtumėte įtraukti jį į savo LinkedIn profilį.';
$string['publiclink'] = 'Vieša nuoroda';
$string['copylink'] = 'Kopijuoti nuorodą';
$string['linkcopied'] = 'Nuoroda nukopijuota.';
$string['addtolinkedin'] = 'Įtraukti į LinkedIn profilį';
$string['sharedsaved'] = 'Viešas kredencialo puslapis įjungtas: jį mato kiekvienas, turintis nuorodą.';
$string['unsharedsaved'] = 'Viešas kredencialo puslapis išjungtas.';
$string['sharefailed'] = 'Bendrinimo pakeisti nepavyko: {$a}';
$string['addtowallet'] = 'Įtraukti į piniginę';
$string['addtowalletas'] = 'Formatas piniginei';
$string['walletsdjwt'] = 'ES mokymosi kredencialas (SD-JWT VC)';
$string['walletob3'] = 'Open Badge 3.0';
$string['showwalletcode'] = 'Rodyti piniginės kodą';
$string['showwalletcodehint'] = 'Kredencialo laiške esančiai nuorodai „Įtraukti į piniginę“.';
$string['walletofferintro'] = 'Įtraukite šį kredencialą į savo skaitmeninę piniginę (ES skaitmeninės tapatybės piniginę ar kitą OpenID4VCI palaikančią piniginę).';
$string['walletofferbadge'] = 'Įtraukite šį kredencialą kaip Open Badge 3.0 į savo skaitmeninę piniginę (OpenID4VCI palaikančią piniginę).';
$string['walletqralt'] = 'Piniginės pasiūlymo QR kodas: nuskaitykite jį piniginės programėle';
$string['walletstepscan'] = 'Nuskaitykite QR kodą piniginės programėle arba atidarykite žemiau esančią nuorodą telefone, kuriame įdiegta piniginė.';
$string['walletstepcode'] = 'Kai piniginė paprašys operacijos kodo, įveskite {$a->length} skaitmenų kodą, kurį ką tik išsiuntėme adresu {$a->email}.';
$string['walletstepaccept'] = 'Priimkite kredencialą piniginėje.';
$string['walletopen'] = 'Atidaryti piniginės programėlėje';
$string['walletlinklabel'] = 'Piniginės pasiūlymo nuoroda';
$string['walletexpires'] = 'Pasiūlymas galioja vieną kartą, iki {$a}. Be kodo iš laiško jis į piniginę nieko neįtraukia.';
$string['walletcodeintro'] = 'Piniginė prašo operacijos kodo kredencialo laiške esančiai nuorodai „Įtraukti į piniginę“. Įveskite šį kodą piniginėje:';
$string['walletcodelabel'] = 'Operacijos kodas';
$string['walletcodeexpires'] = 'Nuoroda laiške galioja iki {$a}. Paprašius kodo dar kartą, sukuriamas naujas, o šis nebegalioja.';
$string['walletnocode'] = 'Jokia nuoroda „Įtraukti į piniginę“ iš kredencialo laiško nelaukia (ji nebuvo išsiųsta, jau panaudota, užrakinta arba nebegalioja). Naudokite „Įtraukti į piniginę“.';
$string['walletfailed'] = 'Piniginės pasiūlymo sukurti nepavyko: {$a}';
$string['walletrevoked'] = 'Atšaukto kredencialo į piniginę įtraukti negalima.';
$string['backtomycredentials'] = 'Atgal į „Mano kredencialai“';
$string['pdffailed'] = 'Nepavyko gauti spausdinamo PDF: {$a}';
$string['nocredential'] = 'Tokio jūsų kredencialo nėra.';
$string['invalidaction'] = 'Nežinomas veiksmas „{$a}“.';
$string['invalidsupersededby'] = 'supersededby: kitu kredencialu pakeičiamas tik atšauktas kredencialas.';
$string['event_credential_requested'] = 'Paprašyta kredencialo';
$string['event_credential_issued'] = 'Kredencialas išduotas';
$string['event_credential_revoked'] = 'Kredencialas atšauktas';
$string['issuedcount_one'] = 'Šiame kurse išduotas {$a} kredencialas';
$string['issuedcount_few'] = 'Šiame kurse išduoti {$a} kredencialai';
$string['issuedcount_other'] = 'Šiame kurse išduota {$a} kredencialų';
$string['requested_one'] = 'Paprašyta kredencialo {$a} besimokančiajam. Užklausa siunčiama tarnybai fone; šis puslapis atsinaujina keičiantis būsenai.';
$string['requested_few'] = 'Paprašyta kredencialų {$a} besimokantiesiems. Užklausos siunčiamos tarnybai fone; šis puslapis atsinaujina keičiantis būsenoms.';
$string['requested_other'] = 'Paprašyta kredencialų {$a} besimokančiųjų. Užklausos siunčiamos tarnybai fone; šis puslapis atsinaujina keičiantis būsenoms.';
$string['requestedexception_one'] = '{$a} iš jų kurso nebaigė: užklausa įrašyta kaip išimtis su jūsų nurodyta priežastimi.';
$string['requestedexception_few'] = '{$a} iš jų kurso nebaigė: užklausos įrašytos kaip išimtys su jūsų nurodyta priežastimi.';
$string['requestedexception_other'] = '{$a} iš jų kurso nebaigė: užklausos įrašytos kaip išimtys su jūsų nurodyta priežastimi.';
$string['synced_one'] = 'Tarnyba atsakė: pasikeitė {$a} būsena.';
$string['synced_few'] = 'Tarnyba atsakė: pasikeitė {$a} būsenos.';
$string['synced_other'] = 'Tarnyba atsakė: pasikeitė {$a} būsenų.';
$string['syncnow'] = 'Pasiteirauti tarnybos dabar';
$string['syncnow_help'] = 'Išduoti ir atšaukti kredencialai atkeliauja patys; tai pasiteirauja apie dar eilėje esančias užklausas (Moodle tai daro ir kas kelias minutes).';
$string['tasksyncstatuses'] = 'Pasiteirauti EDC tarnybos apie eilėje esančias kredencialų užklausas';
$string['confirmexception'] = 'Išduoti kurso nebaigusiems besimokantiesiems?';
$string['confirmexception_intro'] = 'Šie besimokantieji kurso nebaigė. Kredencialas teigia, kad baigė: prašykite jo tik kaip sąmoningos išimties ir nurodykite priežastį. Užklausa įrašoma kaip išimtis su jūsų priežastimi, rodoma dėstytojo puslapyje ir saugoma tarnybos audito žurnale.';
$string['confirmexception_button'] = 'Išduoti kaip išimtį';
$string['exceptionreason'] = 'Išimties priežastis';
$string['exceptionreason_help'] = 'Privaloma. Pavyzdžiui: atsiskaitymą atliko raštu popieriuje; šiai grupei kurso baigimas nebuvo sekamas.';
$string['exception'] = 'Išimtis';
$string['privacy:metadata:status:exceptionreason'] = 'Priežastis, kurią dėstytojas nurodė prašydamas kredencialo kurso nebaigusiam besimokančiajam.';
$string['privacy:metadata:cred:status'] = 'Kredencialo būsena (išduotas, pristatytas, atšauktas).';
$string['privacy:metadata:cred:reason'] = 'Kodėl kredencialas atšauktas.';
$string['privacy:metadata:cred:title'] = 'Kredencialo pavadinimas.';
$string['privacy:metadata:cred:coursename'] = 'Kurso pavadinimas, kai kredencialas buvo įrašytas.';
$string['privacy:metadata:cred:shared'] = 'Ar besimokantysis bendrina viešą kredencialo puslapį.';
$string['privacy:metadata:cred:publicurl'] = 'Viešo kredencialo puslapio adresas.';
$string['privacy:metadata:sidecar:exception_reason'] = 'Dėstytojo priežastis prašyti kredencialo kurso nebaigusiam besimokančiajam.';
$string['privacy:metadata:sidecar:shared'] = 'Besimokančiojo pasirinkimas bendrinti viešą kredencialo puslapį (su besimokančiojo Moodle naudotojo id).';
$string['privacy:metadata:sidecar:wallet'] = 'Besimokančiojo prašymas įtraukti kredencialą į skaitmeninę piniginę (su besimokančiojo Moodle naudotojo id); tarnyba išsiunčia piniginės operacijos kodą besimokančiajam el. paštu.';
