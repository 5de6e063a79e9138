<?php
// Prepares a throwaway local Moodle (4.3+) for the block_edcissuer end-to-end check. Never run it on a real site.
//
// Environment:
//   EDC_E2E_MOODLE_DIR    Moodle code directory (with config.php); required
//   EDC_E2E_SIDECAR_URL   sidecar base URL, e.g. http://127.0.0.1:8765; required
//   EDC_E2E_KEY_ID        intake key id (default "moodle-e2e")
//   EDC_E2E_SECRET_FILE   file holding the shared intake secret; required (kept out of argv and output)
//   EDC_E2E_TOKEN_FILE    where to write the sidecar's web service token (mode 0600); required
//   EDC_E2E_PASSWORD      password of the test teacher and learners (default "E2e-pass-1")
//
// It: enables completion, web services and REST; configures the plugin and Moodle's outgoing-HTTP security
// for a sidecar on a loopback address and port; creates course DATA101 with self completion, a teacher,
// three learners (one completes, one does not, one outsider), a sidecar user with a role holding
// webservice/rest:use and block/edcissuer:storecredential, authorised on the "EDC sidecar" service, and a
// token for it; adds the block to the course and to the default Dashboard; stores the pilot DATA101 course
// description. Running it again changes nothing that is already in place (the token is reused).

define('CLI_SCRIPT', true);

$moodledir = getenv('EDC_E2E_MOODLE_DIR');
foreach (['EDC_E2E_MOODLE_DIR', 'EDC_E2E_SIDECAR_URL', 'EDC_E2E_SECRET_FILE', 'EDC_E2E_TOKEN_FILE'] as $name) {
    if (!getenv($name)) {
        fwrite(STDERR, "$name is not set\n");
        exit(2);
    }
}
require($moodledir . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->libdir . '/enrollib.php');
require_once($CFG->libdir . '/completionlib.php');

\core\session\manager::set_user(get_admin());

$sidecarurl = rtrim(getenv('EDC_E2E_SIDECAR_URL'), '/');
$keyid = getenv('EDC_E2E_KEY_ID') ?: 'moodle-e2e';
$secret = trim(file_get_contents(getenv('EDC_E2E_SECRET_FILE')));
$password = getenv('EDC_E2E_PASSWORD') ?: 'E2e-pass-1';
$repo = dirname(__DIR__, 2);

// A Lithuanian language pack (no network to download one): its langconfig only, so Moodle offers lt and the
// plugin's own lt strings show; Moodle's core strings fall back to English.
$ltpack = $CFG->dataroot . '/lang/lt';
if (!is_file($ltpack . '/langconfig.php')) {
    check_dir_exists($ltpack);
    file_put_contents($ltpack . '/langconfig.php', "<?php\n\$string['thislanguage'] = 'Lietuvių';\n"
        . "\$string['thislanguageint'] = 'Lithuanian';\n\$string['parentlanguage'] = '';\n"
        . "\$string['locale'] = 'lt_LT.UTF-8';\n\$string['localewin'] = 'Lithuanian_Lithuania.1257';\n"
        . "\$string['decsep'] = ',';\n\$string['thousandssep'] = ' ';\n");
    get_string_manager()->reset_caches();
}

// No user tours: their pop-ups would cover what the browser checks click.
$DB->set_field('tool_usertours_tours', 'enabled', 0);
cache::make('tool_usertours', 'tourdata')->purge();

// Site features.
set_config('enablecompletion', 1);
set_config('enablewebservices', 1);
set_config('webserviceprotocols', 'rest');
set_config('debug', DEBUG_DEVELOPER);
set_config('debugdisplay', 1);

// Plugin settings.
set_config('sidecarurl', $sidecarurl, 'block_edcissuer');
set_config('keyid', $keyid, 'block_edcissuer');
set_config('secret', $secret, 'block_edcissuer');
set_config('autoissue', 1, 'block_edcissuer');
set_config('siteid', 'moodle-e2e', 'block_edcissuer');

// Outgoing HTTP to the loopback sidecar: drop 127.0.0.0/8 and localhost from the blocked hosts, allow the port.
$host = parse_url($sidecarurl, PHP_URL_HOST);
$port = parse_url($sidecarurl, PHP_URL_PORT);
$blocked = array_filter(array_map('trim', explode("\n", (string)get_config('core', 'curlsecurityblockedhosts'))),
    fn($h) => $h !== '' && !in_array($h, ['127.0.0.0/8', 'localhost', $host], true));
set_config('curlsecurityblockedhosts', implode("\n", $blocked));
if ($port) {
    $ports = array_filter(array_map('trim', explode("\n", (string)get_config('core', 'curlsecurityallowedport'))));
    if (!in_array((string)$port, $ports, true)) {
        $ports[] = (string)$port;
    }
    set_config('curlsecurityallowedport', implode("\n", $ports));
}

/**
 * A user by username, created if missing.
 */
function e2e_user(string $username, string $first, string $last, string $email, string $lang, string $password): stdClass {
    global $DB, $CFG;
    $user = $DB->get_record('user', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id]);
    $id = $user ? $user->id : user_create_user((object)['username' => $username, 'password' => $password, 'firstname' => $first,
        'lastname' => $last, 'email' => $email, 'auth' => 'manual', 'confirmed' => 1,
        'mnethostid' => $CFG->mnet_localhost_id], true, false);
    // Without the language pack installed Moodle cleans 'lt' away; keep it, so the event carries the learner's language.
    $DB->set_field('user', 'lang', $lang, ['id' => $id]);
    return $DB->get_record('user', ['id' => $id]);
}

$teacher = e2e_user('e2e_teacher', 'Rūta', 'Žemaitienė', 'teacher@e2e.example', 'en', $password);
$learner = e2e_user('e2e_ona', 'Ona', 'Jonaitė', 'ona@e2e.example', 'lt', $password);
$other = e2e_user('e2e_jonas', 'Jonas', 'Petraitis', 'jonas@e2e.example', 'lt', $password);
$outsider = e2e_user('e2e_liam', 'Liam', "O'Brien", 'liam@e2e.example', 'en', $password);
$sidecar = e2e_user('e2e_sidecar', 'EDC', 'Sidecar', 'sidecar@e2e.example', 'en', random_string(24) . 'A1!');

// Course with self completion.
$course = $DB->get_record('course', ['shortname' => 'DATA101']);
if (!$course) {
    $course = create_course((object)['fullname' => 'Data literacy', 'shortname' => 'DATA101', 'category' => 1,
        'enablecompletion' => 1, 'format' => 'topics', 'numsections' => 1]);
}
if (!$DB->record_exists('course_completion_criteria', ['course' => $course->id, 'criteriatype' => COMPLETION_CRITERIA_TYPE_SELF])) {
    $DB->insert_record('course_completion_criteria', (object)['course' => $course->id,
        'criteriatype' => COMPLETION_CRITERIA_TYPE_SELF]);
}
$enrol = enrol_get_plugin('manual');
$instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
$roles = $DB->get_records_menu('role', null, '', 'shortname, id');
foreach ([[$teacher, 'editingteacher'], [$learner, 'student'], [$other, 'student']] as [$user, $role]) {
    $enrol->enrol_user($instance, $user->id, $roles[$role]);
}

// Blocks: in the course and on the default Dashboard.
$coursecontext = context_course::instance($course->id);
if (!$DB->record_exists('block_instances', ['blockname' => 'edcissuer', 'parentcontextid' => $coursecontext->id])) {
    $DB->insert_record('block_instances', (object)['blockname' => 'edcissuer', 'parentcontextid' => $coursecontext->id,
        'showinsubcontexts' => 0, 'pagetypepattern' => 'course-view-*', 'subpagepattern' => null,
        'defaultregion' => 'side-pre', 'defaultweight' => 0, 'configdata' => '', 'timecreated' => time(),
        'timemodified' => time()]);
}
$mypage = $DB->get_record('my_pages', ['userid' => null, 'name' => '__default', 'private' => 1]);
$syscontext = context_system::instance();
if ($mypage && !$DB->record_exists('block_instances', ['blockname' => 'edcissuer', 'pagetypepattern' => 'my-index',
        'subpagepattern' => $mypage->id])) {
    $DB->insert_record('block_instances', (object)['blockname' => 'edcissuer', 'parentcontextid' => $syscontext->id,
        'showinsubcontexts' => 0, 'pagetypepattern' => 'my-index', 'subpagepattern' => $mypage->id,
        'defaultregion' => 'content', 'defaultweight' => -10, 'configdata' => '', 'timecreated' => time(),
        'timemodified' => time()]);
}

// The sidecar's web service user, role, service authorisation and token.
$roleid = $DB->get_field('role', 'id', ['shortname' => 'edcsidecar']);
if (!$roleid) {
    $roleid = create_role('EDC sidecar', 'edcsidecar', 'Web service user of the EDC sidecar');
    set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);
}
assign_capability('webservice/rest:use', CAP_ALLOW, $roleid, $syscontext->id, true);
assign_capability('block/edcissuer:storecredential', CAP_ALLOW, $roleid, $syscontext->id, true);
role_assign($roleid, $sidecar->id, $syscontext->id);
$service = $DB->get_record('external_services', ['shortname' => 'block_edcissuer_sidecar'], '*', MUST_EXIST);
if (!$DB->record_exists('external_services_users', ['externalserviceid' => $service->id, 'userid' => $sidecar->id])) {
    $DB->insert_record('external_services_users', (object)['externalserviceid' => $service->id, 'userid' => $sidecar->id,
        'timecreated' => time()]);
}
$token = $DB->get_field('external_tokens', 'token', ['userid' => $sidecar->id, 'externalserviceid' => $service->id,
    'tokentype' => EXTERNAL_TOKEN_PERMANENT], IGNORE_MULTIPLE);
if (!$token) {
    $token = \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $sidecar->id, $syscontext, 0, '',
        'EDC sidecar e2e');
}
$tokenfile = getenv('EDC_E2E_TOKEN_FILE');
umask(0077);
file_put_contents($tokenfile, $token);
chmod($tokenfile, 0600);

// The pilot course description, as if a teacher had saved it (the form is checked separately).
$spec = file_get_contents($repo . '/examples/pilot/courses/data101.json');
$DB->delete_records('block_edcissuer_spec', ['courseid' => $course->id]);
$DB->insert_record('block_edcissuer_spec', (object)['courseid' => $course->id,
    'spec' => json_encode(json_decode($spec, true), JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES),
    'timemodified' => time(), 'timesent' => 0]);
purge_caches();

echo json_encode(['courseid' => (int)$course->id, 'teacher' => (int)$teacher->id, 'learner' => (int)$learner->id,
    'other' => (int)$other->id, 'outsider' => (int)$outsider->id, 'sidecaruser' => (int)$sidecar->id,
    'siteid' => 'moodle-e2e', 'wwwroot' => $CFG->wwwroot]) . "\n";
