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
 * English strings of block_edcissuer.
 *
 * @package    block_edcissuer
 * @category   string
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['pluginname'] = 'European Digital Credentials';
$string['edcissuer:addinstance'] = 'Add a European Digital Credentials block';
$string['edcissuer:myaddinstance'] = 'Add a European Digital Credentials block to the Dashboard';
$string['edcissuer:issue'] = 'Issue credentials to learners and see their status';
$string['edcissuer:managespec'] = 'Edit the course credential description';
$string['edcissuer:viewown'] = 'See and download own credentials';
$string['edcissuer:addtowallet'] = 'Add own credentials to a digital wallet';
$string['edcissuer:storecredential'] = 'Store credentials and statuses (the sidecar\'s web service user)';

// Settings.
$string['settings_sidecar'] = 'Credential sidecar';
$string['settings_sidecar_desc'] = 'The sidecar builds, seals and delivers the credentials. Moodle sends it signed events (course completed, issue requested) and course credential descriptions; the sidecar calls back through the "EDC sidecar" web service.';
$string['settings_sidecarurl'] = 'Sidecar URL';
$string['settings_sidecarurl_desc'] = 'Base URL of the sidecar, e.g. https://edc.example.edu (no trailing /api).';
$string['settings_keyid'] = 'Key id';
$string['settings_keyid_desc'] = 'Id of the shared secret, as configured in the sidecar (EDC_INTAKE_KEYS, "keyid=secret").';
$string['settings_secret'] = 'Shared secret';
$string['settings_secret_desc'] = 'The secret every request to the sidecar is signed with (HMAC-SHA256). It is never sent itself. Use a long random value, e.g. from "openssl rand -hex 32".';
$string['settings_siteid'] = 'Site id';
$string['settings_siteid_desc'] = 'How the sidecar tells this Moodle apart from others: part of every event id and of the course description address. Do not change it once credentials have been issued.';
$string['settings_autoissue'] = 'Issue automatically on course completion';
$string['settings_autoissue_desc'] = 'When a learner completes a course, ask the sidecar for their credential. Off: only teachers\' "Issue credential" does.';
$string['settings_defaultlang'] = 'Default credential language';
$string['settings_defaultlang_desc'] = 'Language of new course descriptions, and of credentials for learners whose Moodle language is neither English nor Lithuanian.';
$string['settings_httpsecurity'] = 'Reaching a sidecar on a private address or port';
$string['settings_httpsecurity_desc'] = 'Moodle refuses outgoing HTTP to private and loopback addresses and to ports other than 80 and 443 unless told otherwise. If the sidecar runs on such an address (e.g. 10.0.0.5, 127.0.0.1, localhost) or port (e.g. 8080), remove the matching entry from <a href="{$a->blockedhosts}">cURL blocked hosts list (curlsecurityblockedhosts)</a> — for 127.0.0.1 both "127.0.0.0/8" and "localhost" — and add the port to <a href="{$a->allowedport}">cURL allowed ports list (curlsecurityallowedport)</a>. While blocked, sending fails with "The URL is blocked." on the teacher page and in the task log.';
$string['lang_en'] = 'English';
$string['lang_lt'] = 'Lithuanian';

// Block.
$string['mycredentials'] = 'My credentials';
$string['nocredentials'] = 'No credentials yet.';
$string['download'] = 'Download';
$string['verify'] = 'Verify';
$string['formatlabel_edcxml'] = 'EDC v1 XML';
$string['formatlabel_elm3jsonld'] = 'ELM v3 JSON-LD';
$string['formatlabel_ob3vcjwt'] = 'Open Badges 3.0 (VC-JWT)';
$string['formatlabel_unknown'] = 'unknown format';
$string['specpage'] = 'Credential description';
$string['issuepage'] = 'Issue credentials';

// Statuses.
$string['status_notissued'] = 'Not issued';
$string['status_queued'] = 'Queued';
$string['status_issued'] = 'Issued';
$string['status_delivered'] = 'Delivered';
$string['status_failed'] = 'Failed';
$string['status_revoked'] = 'Revoked';
$string['status_parked'] = 'Needs attention';

// Teacher page.
$string['learner'] = 'Learner';
$string['completion'] = 'Course completion';
$string['completedon'] = 'Completed {$a}';
$string['notcompleted'] = 'Not completed';
$string['credentialstatus'] = 'Credential';
$string['statustime'] = 'Since';
$string['issuecredential'] = 'Issue credential';
$string['issueallcompleted'] = 'Issue to all who completed';
$string['nolearners'] = 'No learners are enrolled in this course.';
$string['nonechosen'] = 'No learners were selected.';
$string['refreshing'] = 'Updating every few seconds while requests are queued.';
$string['syncfailed'] = 'Could not fetch the latest statuses from the sidecar: {$a}. The statuses shown are the last ones Moodle received.';
$string['tasksendevent'] = 'Send a credential request to the EDC sidecar';

// Course credential description form.
$string['inlanguage'] = '{$a->label} ({$a->language})';
$string['notset'] = '(not set)';
$string['savesend'] = 'Save and send to the sidecar';
$string['specaccepted'] = 'The credential description was saved and the sidecar accepted it.';
$string['specrefused'] = 'Saved in Moodle, but the sidecar found {$a} problem(s); see the marked fields. Credentials cannot be issued until it accepts the description.';
$string['specstillrefused'] = 'The sidecar refused the last saved version; see the marked fields.';
$string['specnotsent'] = 'Saved in Moodle, but not sent to the sidecar: {$a}. Save again once it is reachable.';
$string['specnotyetsent'] = 'This description has not reached the sidecar yet. Save it again to send it.';
$string['section_general'] = 'Title and description';
$string['section_issuer'] = 'Issuer';
$string['section_awarding_body'] = 'Awarding body';
$string['section_learning_outcomes'] = 'Learning outcomes';
$string['section_workload'] = 'Workload and level';
$string['section_assessment'] = 'Assessment';
$string['section_participation'] = 'Form of participation and prerequisites';
$string['section_quality_assurance'] = 'Quality assurance';
$string['section_more'] = 'Stackability and further information';
$string['primary_language'] = 'Primary language';
$string['primary_language_help'] = 'The language that must be filled in for every text. The other language is optional but recommended.';
$string['code'] = 'Course code';
$string['title'] = 'Title of the micro-credential';
$string['description'] = 'Description';
$string['homepage'] = 'Course web page';
$string['valid_for'] = 'Valid for (ISO 8601 duration, e.g. P5Y; empty: no expiry)';
$string['awarding_body_same'] = 'The awarding body is the issuer';
$string['org_name'] = 'Name';
$string['org_legal_identifier'] = 'Legal identifier (registration number)';
$string['org_vat_identifier'] = 'VAT number';
$string['org_country'] = 'Country (ISO 3166-1 alpha-3, e.g. LTU)';
$string['org_region'] = 'Region (NUTS code, e.g. LT011)';
$string['org_homepage'] = 'Web page';
$string['org_email'] = 'Email';
$string['org_address'] = 'Address';
$string['learning_outcomes_text'] = 'Learning outcome';
$string['learning_outcomes_type'] = 'Kind of outcome';
$string['learning_outcomes_esco_skill'] = 'ESCO skill URI (optional)';
$string['learning_outcomes_add'] = 'Add two more learning outcomes';
$string['lotype_knowledge'] = 'Knowledge';
$string['lotype_skill'] = 'Skill';
$string['lotype_responsibilityautonomy'] = 'Responsibility and autonomy';
$string['workload_ects'] = 'Notional workload (ECTS credits)';
$string['workload_hours'] = 'Notional workload (hours)';
$string['eqf_level'] = 'EQF level';
$string['eqf_level_help'] = 'Level of the learning experience in the European Qualifications Framework (1–8). Bachelor level is 6, master 7, doctorate 8.';
$string['format'] = 'Credential format';
$string['format_edcxml'] = 'EDC v1 XML (sealed with XAdES)';
$string['format_elm3jsonld'] = 'ELM v3 JSON-LD (sealed with JAdES; what Europass wallets take)';
$string['format_both'] = 'Both: the same credential as EDC v1 XML and as ELM v3 JSON-LD (one email, both files here)';
$string['format_ob3vcjwt'] = 'Open Badges 3.0 (a VC-JWT sealed on the same key; what Open Badges wallets take)';
$string['qf_ehea_cycle'] = 'QF-EHEA cycle';
$string['qf_ehea_cycle_short'] = 'Short cycle';
$string['qf_ehea_cycle_first'] = 'First cycle (bachelor)';
$string['qf_ehea_cycle_second'] = 'Second cycle (master)';
$string['qf_ehea_cycle_third'] = 'Third cycle (doctorate)';
$string['isced_f'] = 'ISCED-F field of education (code, e.g. 0613)';
$string['assessment_type'] = 'Type of assessment';
$string['assessment_type_writtenexamination'] = 'Written examination';
$string['assessment_type_oralexamination'] = 'Oral examination';
$string['assessment_type_practicalassessment'] = 'Practical assessment';
$string['assessment_type_continuousevaluation'] = 'Continuous evaluation';
$string['assessment_type_quiz'] = 'Quiz';
$string['assessment_type_levelofattendance'] = 'Level of attendance';
$string['assessment_description'] = 'Assessment description';
$string['assessment_grading_scheme'] = 'Assessment grading scheme';
$string['supervision_and_identity_verification'] = 'Supervision and identity verification during assessment';
$string['supervision_and_identity_verification_none'] = 'Unsupervised, no identity verification';
$string['supervision_and_identity_verification_supervisednoidverification'] = 'Supervised, no identity verification';
$string['supervision_and_identity_verification_supervisedwithidverification'] = 'Supervised with identity verification';
$string['supervision_and_identity_verification_idverificationonly'] = 'Identity verification only';
$string['grading_scheme'] = 'Grade scale of the credential';
$string['participation_mode'] = 'Form of participation';
$string['participation_mode_online'] = 'Online';
$string['participation_mode_onsite'] = 'On site';
$string['participation_mode_blended'] = 'Blended';
$string['participation_description'] = 'Participation details';
$string['prerequisites'] = 'Prerequisites';
$string['quality_assurance_type'] = 'Type of quality assurance';
$string['quality_assurance_body'] = 'Quality assurance body';
$string['quality_assurance_url'] = 'Quality assurance web page';
$string['stackability_kind'] = 'Integration and stackability';
$string['stackability_kind_standalone'] = 'Stand-alone';
$string['stackability_kind_integrated'] = 'Integrated into a qualification';
$string['stackability_kind_stackable'] = 'Stackable towards another credential';
$string['stackability_towards'] = 'Stackable towards';
$string['further_information'] = 'Further information';

// Errors.
$string['notconfigured'] = 'The sidecar is not configured: set its URL, key id and shared secret in the block\'s settings.';
$string['sidecarunreachable'] = 'The sidecar could not be reached or refused the request: {$a}';
$string['credentialconflict'] = 'Credential {$a} is already stored with different content (or for another learner or course); a sealed file never changes.';
$string['invalidstatus'] = 'Unknown status "{$a}"; expected queued, issued, delivered, failed, revoked or parked.';
$string['invaliduser'] = 'No such user: {$a}';
$string['invalidcourse'] = 'No such course: {$a}';
$string['invalidcredentialid'] = 'credentialid: must be 1 to 255 characters.';
$string['invalidformat'] = 'format: "{$a->format}" is not one of edc-xml, elm3-jsonld, ob3-vcjwt, or does not match the file name {$a->filename}.';
$string['invalidfilename'] = 'filename: "{$a}" is not a plain file name.';
$string['invalidverifyurl'] = 'verifyurl: must be an http or https URL.';
$string['invalidcontent'] = 'content: must be non-empty base64.';
$string['invaliddeliveredat'] = 'deliveredat: must be Unix seconds, or 0 to only store; got {$a}.';

// Privacy.
$string['privacy:metadata:status'] = 'The credential status of each learner in each course.';
$string['privacy:metadata:status:userid'] = 'The learner.';
$string['privacy:metadata:status:courseid'] = 'The course.';
$string['privacy:metadata:status:status'] = 'The status (queued, issued, delivered, failed, revoked, parked).';
$string['privacy:metadata:status:message'] = 'Detail of the status, e.g. why sending failed.';
$string['privacy:metadata:status:credentialid'] = 'The id of the credential.';
$string['privacy:metadata:status:requestedby'] = 'The teacher who requested the credential.';
$string['privacy:metadata:status:timestatus'] = 'When the status was reached.';
$string['privacy:metadata:cred'] = 'Sealed credentials stored for learners.';
$string['privacy:metadata:cred:userid'] = 'The learner.';
$string['privacy:metadata:cred:courseid'] = 'The course.';
$string['privacy:metadata:cred:credentialid'] = 'The id of the credential.';
$string['privacy:metadata:cred:filename'] = 'The file name.';
$string['privacy:metadata:cred:verifyurl'] = 'The public verification link.';
$string['privacy:metadata:cred:timecreated'] = 'When it was stored.';
$string['privacy:metadata:files'] = 'The sealed credential files, in the learner\'s own file area.';
$string['privacy:metadata:sidecar'] = 'To issue a credential, the learner\'s details are sent to the university\'s credential sidecar, which builds, seals and emails the credential.';
$string['privacy:metadata:sidecar:userid'] = 'The learner\'s Moodle user id.';
$string['privacy:metadata:sidecar:email'] = 'The learner\'s email address (the credential is emailed to it).';
$string['privacy:metadata:sidecar:given_names'] = 'The learner\'s first name.';
$string['privacy:metadata:sidecar:family_name'] = 'The learner\'s last name.';
$string['privacy:metadata:sidecar:lang'] = 'The learner\'s language.';
$string['privacy:metadata:sidecar:course'] = 'The course id, short name and full name.';
$string['privacy:metadata:sidecar:completed_at'] = 'When the learner completed the course.';
$string['privacy:metadata:sidecar:requested_by'] = 'The user id of the teacher who requested the credential.';

// Europass course register (issue 16).
$string['section_provider'] = 'Provider (Europass: only when the issuer does not teach the course)';
$string['section_europass'] = 'Europass course register';
$string['europass_intro'] = 'Optional. What Europass\'s course register shows about taking the course; credentials do not use it. Europass also needs the course web page and the ISCED-F field.';
$string['learning_opportunity_type'] = 'Type of learning opportunity';
$string['learning_opportunity_type_course'] = 'Course';
$string['learning_opportunity_type_mooc'] = 'MOOC';
$string['learning_opportunity_type_shortlearningprogramme'] = 'Short learning programme';
$string['learning_opportunity_type_programmemodule'] = 'Programme module';
$string['learning_opportunity_type_educationalprogramme'] = 'Educational programme';
$string['learning_opportunity_type_class'] = 'Class';
$string['learning_opportunity_type_internship'] = 'Internship';
$string['learning_opportunity_type_apprenticeship'] = 'Apprenticeship';
$string['learning_opportunity_type_mentoring'] = 'Mentoring';
$string['learning_opportunity_type_studyvisit'] = 'Study visit';
$string['learning_opportunity_type_servicelearning'] = 'Service learning';
$string['learning_opportunity_type_thesis'] = 'Thesis';
$string['learning_opportunity_start_date'] = 'Start date (YYYY-MM-DD)';
$string['learning_opportunity_end_date'] = 'End date (YYYY-MM-DD)';
$string['learning_opportunity_application_deadline'] = 'Application deadline (YYYY-MM-DD)';
$string['learning_opportunity_duration'] = 'Duration (e.g. P3M or P42D)';
$string['learning_opportunity_schedule'] = 'Schedule';
$string['learning_opportunity_schedule_fulltime'] = 'Full time';
$string['learning_opportunity_schedule_parttimeintensive'] = 'Part time, intensive';
$string['learning_opportunity_schedule_parttimelight'] = 'Part time, light';
$string['learning_opportunity_setting'] = 'Learning setting';
$string['learning_opportunity_setting_formal'] = 'Formal learning';
$string['learning_opportunity_setting_nonformal'] = 'Non-formal learning';
$string['learning_opportunity_price_amount'] = 'Price (0 if free)';
$string['learning_opportunity_price_currency'] = 'Currency (ISO 4217, e.g. EUR)';
$string['learning_opportunity_price_description'] = 'Fees, scholarships and subsidies';
$string['learning_opportunity_admission_procedure'] = 'How to apply';
$string['learning_opportunity_schedule_information'] = 'Timetable';
$string['europassexport'] = 'Export for Europass';
$string['europass_qdr'] = 'QDR XML (course register)';
$string['europass_elm3'] = 'ELM v3 JSON-LD';
$string['europassrefused'] = 'Not exported: Europass would refuse this description. Missing or wrong: {$a}';
$string['europassnotreached'] = 'Not exported: the sidecar could not be reached: {$a}';

// The learner's side, Moodle's events and the teacher page (issue 14).
$string['status_superseded'] = 'Superseded';
$string['allmycredentials'] = 'All my credentials';
$string['printablepdf'] = 'Printable PDF';
$string['revokedreason'] = 'Reason: {$a}';
$string['supersededexplained'] = 'Replaced by a corrected credential, listed here too.';
$string['share'] = 'Share';
$string['stopsharing'] = 'Stop sharing';
$string['sharedon'] = 'Shared: anyone with the link can see it.';
$string['sharehint'] = 'Share it to get a public link for employers and to add it to your LinkedIn profile.';
$string['publiclink'] = 'Public link';
$string['copylink'] = 'Copy link';
$string['linkcopied'] = 'Link copied.';
$string['addtolinkedin'] = 'Add to LinkedIn profile';
$string['sharedsaved'] = 'The credential\'s public page is on: anyone with its link can see it.';
$string['unsharedsaved'] = 'The credential\'s public page is off.';
$string['sharefailed'] = 'Sharing could not be changed: {$a}';
$string['addtowallet'] = 'Add to wallet';
$string['addtowalletas'] = 'Format for the wallet';
$string['walletsdjwt'] = 'EU learning credential (SD-JWT VC)';
$string['walletob3'] = 'Open Badge 3.0';
$string['showwalletcode'] = 'Show wallet code';
$string['showwalletcodehint'] = 'For the "Add to wallet" link in the credential\'s email.';
$string['walletofferintro'] = 'Add this credential to your digital wallet (an EU Digital Identity wallet, or another wallet that speaks OpenID4VCI).';
$string['walletofferbadge'] = 'Add this credential, as an Open Badge 3.0, to your digital wallet (a wallet that speaks OpenID4VCI).';
$string['walletqralt'] = 'QR code of the wallet offer: scan it with your wallet app';
$string['walletstepscan'] = 'Scan the QR code with your wallet app, or open the link below on the phone where the wallet is installed.';
$string['walletstepcode'] = 'When the wallet asks for a transaction code, enter the {$a->length}-digit code we have just sent to {$a->email}.';
$string['walletstepaccept'] = 'Accept the credential in the wallet.';
$string['walletopen'] = 'Open in wallet app';
$string['walletlinklabel'] = 'Wallet offer link';
$string['walletexpires'] = 'The offer works once, until {$a}. Without the code from the email it adds nothing to a wallet.';
$string['walletcodeintro'] = 'Your wallet asks for a transaction code for the "Add to wallet" link in the credential\'s email. Enter this code in the wallet:';
$string['walletcodelabel'] = 'Transaction code';
$string['walletcodeexpires'] = 'The link in the email works until {$a}. Asking for a code again makes a new one, and this one stops working.';
$string['walletnocode'] = 'No "Add to wallet" link from the credential\'s email is waiting (none was sent, or it was used, locked or has expired). Use "Add to wallet" instead.';
$string['walletfailed'] = 'The wallet offer could not be made: {$a}';
$string['walletrevoked'] = 'A revoked credential cannot be added to a wallet.';
$string['backtomycredentials'] = 'Back to My credentials';
$string['pdffailed'] = 'The printable PDF could not be fetched: {$a}';
$string['nocredential'] = 'No such credential of yours.';
$string['invalidaction'] = 'Unknown action "{$a}".';
$string['invalidsupersededby'] = 'supersededby: only a revoked credential is superseded by another.';
$string['event_credential_requested'] = 'Credential requested';
$string['event_credential_issued'] = 'Credential issued';
$string['event_credential_revoked'] = 'Credential revoked';
$string['issuedcount_one'] = '{$a} credential issued in this course';
$string['issuedcount_few'] = '{$a} credentials issued in this course';
$string['issuedcount_other'] = '{$a} credentials issued in this course';
$string['requested_one'] = 'Credential requested for {$a} learner. It is sent to the sidecar in the background; this page updates as the status changes.';
$string['requested_few'] = 'Credentials requested for {$a} learners. They are sent to the sidecar in the background; this page updates as their status changes.';
$string['requested_other'] = 'Credentials requested for {$a} learners. They are sent to the sidecar in the background; this page updates as their status changes.';
$string['requestedexception_one'] = '{$a} of them has not completed the course: recorded as an exception with your reason.';
$string['requestedexception_few'] = '{$a} of them have not completed the course: recorded as exceptions with your reason.';
$string['requestedexception_other'] = '{$a} of them have not completed the course: recorded as exceptions with your reason.';
$string['synced_one'] = 'The sidecar answered: {$a} status changed.';
$string['synced_few'] = 'The sidecar answered: {$a} statuses changed.';
$string['synced_other'] = 'The sidecar answered: {$a} statuses changed.';
$string['syncnow'] = 'Check the sidecar now';
$string['syncnow_help'] = 'Issued and revoked credentials arrive by themselves; this asks about requests still queued (Moodle also asks every few minutes).';
$string['tasksyncstatuses'] = 'Ask the EDC sidecar about queued credential requests';
$string['confirmexception'] = 'Issue to learners who have not completed the course?';
$string['confirmexception_intro'] = 'These learners have not completed the course. A credential states that they did: ask for one only as a deliberate exception, and say why. The request is recorded as an exception with your reason, shown on the teacher page and kept in the sidecar\'s audit trail.';
$string['confirmexception_button'] = 'Issue as an exception';
$string['exceptionreason'] = 'Reason for the exception';
$string['exceptionreason_help'] = 'Required. For example: completed the assessment on paper; course completion was not tracked for this group.';
$string['exception'] = 'Exception';
$string['privacy:metadata:status:exceptionreason'] = 'The reason a teacher gave for requesting a credential for a learner who had not completed the course.';
$string['privacy:metadata:cred:status'] = 'The credential\'s status (issued, delivered, revoked).';
$string['privacy:metadata:cred:reason'] = 'Why the credential was revoked.';
$string['privacy:metadata:cred:title'] = 'The credential\'s title.';
$string['privacy:metadata:cred:coursename'] = 'The course\'s name when the credential was stored.';
$string['privacy:metadata:cred:shared'] = 'Whether the learner shares the credential\'s public page.';
$string['privacy:metadata:cred:publicurl'] = 'The address of the credential\'s public page.';
$string['privacy:metadata:sidecar:exception_reason'] = 'The teacher\'s reason for requesting a credential for a learner who had not completed the course.';
$string['privacy:metadata:sidecar:shared'] = 'The learner\'s choice to share the credential\'s public page (with the learner\'s Moodle user id).';
$string['privacy:metadata:sidecar:wallet'] = 'The learner\'s request to add a credential to a digital wallet (with the learner\'s Moodle user id); the sidecar emails the wallet\'s transaction code to the learner.';
