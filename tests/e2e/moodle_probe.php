<?php
// Reads and resets block_edcissuer state in a throwaway local Moodle, for the end-to-end test.
//   php moodle_probe.php state <courseid> <userid>     JSON of the learner's completion, status, credentials, queued tasks
//   php moodle_probe.php reset <courseid> <userid>...  forget those learners' completion and credential data
//   php moodle_probe.php config <name> <value>         set a block_edcissuer setting (value "-" reads it from stdin)
//   php moodle_probe.php coreconfig <name> [<value>]   read or set a core setting (prints the previous value)
//   php moodle_probe.php privacy <userid>              export, then delete, the user's data via the privacy API
//   php moodle_probe.php newcourse <shortname> <userid> a course with that learner enrolled (its id)
//   php moodle_probe.php deletecourse <courseid>       delete_course(), then what the plugin still holds of it
// Needs EDC_E2E_MOODLE_DIR.

define('CLI_SCRIPT', true);
require(getenv('EDC_E2E_MOODLE_DIR') . '/config.php');

[$script, $command] = array_slice($argv, 0, 2) + [null, null];
if ($command === 'state') {
    [$courseid, $userid] = [(int)$argv[2], (int)$argv[3]];
    $tasks = $DB->get_records('task_adhoc', ['classname' => '\\block_edcissuer\\task\\send_event']);
    echo json_encode([
        'timecompleted' => (int)$DB->get_field('course_completions', 'timecompleted', ['course' => $courseid, 'userid' => $userid]),
        'status' => $DB->get_record('block_edcissuer_status', ['courseid' => $courseid, 'userid' => $userid]) ?: null,
        'credentials' => array_values($DB->get_records('block_edcissuer_cred', ['courseid' => $courseid, 'userid' => $userid])),
        'files' => $DB->count_records_select('files', "component = 'block_edcissuer' AND filename <> '.' AND contextid = ?",
            [context_user::instance($userid)->id]),
        'tasks' => array_values(array_map(fn($t) => ['id' => (int)$t->id, 'faildelay' => (int)$t->faildelay,
            'customdata' => json_decode($t->customdata)], $tasks)),
    ]) . "\n";
} else if ($command === 'reset') {
    $courseid = (int)$argv[2];
    foreach (array_slice($argv, 3) as $userid) {
        $userid = (int)$userid;
        (new \block_edcissuer\issuance_store())->delete_for_user($userid, [$courseid]);
        $DB->delete_records('course_completions', ['course' => $courseid, 'userid' => $userid]);
        $DB->delete_records('course_completion_crit_compl', ['course' => $courseid, 'userid' => $userid]);
    }
    $DB->delete_records('task_adhoc', ['classname' => '\\block_edcissuer\\task\\send_event']);
    cache::make('core', 'completion')->purge();
    cache::make('core', 'coursecompletion')->purge();
    echo "ok\n";
} else if ($command === 'config') {
    $value = $argv[3] === '-' ? trim(stream_get_contents(STDIN)) : $argv[3];
    set_config($argv[2], $value, 'block_edcissuer');
    echo "ok\n";
} else if ($command === 'coreconfig') {
    // Read (no value) or set a core setting; prints the previous value as JSON.
    $previous = get_config('core', $argv[2]);
    if (isset($argv[3])) {
        set_config($argv[2], $argv[3] === '-' ? stream_get_contents(STDIN) : $argv[3]);
    }
    echo json_encode(['previous' => $previous]) . "\n";
} else if ($command === 'privacy') {
    // Export then delete one user's data through Moodle's privacy manager, as a data request would.
    $user = core_user::get_user((int)$argv[2], '*', MUST_EXIST);
    \core\session\manager::set_user(get_admin());
    $manager = new \core_privacy\manager();
    $compliant = $manager->component_is_compliant('block_edcissuer');
    $approved = function() use ($manager, $user) {
        $collection = new \core_privacy\local\request\contextlist_collection($user->id);
        foreach ($manager->get_contexts_for_userid($user->id) as $list) {
            if ($list->get_component() === 'block_edcissuer') {
                $collection->add_contextlist(new \core_privacy\local\request\approved_contextlist($user,
                    'block_edcissuer', $list->get_contextids()));
            }
        }
        return $collection;
    };
    $before = $approved();
    $zipfile = $manager->export_user_data($before);
    $zip = new ZipArchive();
    $zip->open($zipfile);
    $names = [];
    $data = null;
    for ($i = 0; $i < $zip->numFiles; $i++) {
        $name = $zip->getNameIndex($i);
        $names[] = $name;
        if (preg_match('~European Digital Credentials/data\.json$~', $name)) {
            $data = json_decode($zip->getFromIndex($i));
        }
    }
    $manager->delete_data_for_user($before);
    echo json_encode(['compliant' => $compliant, 'contexts' => count($before->get_contextlist_for_component('block_edcissuer')),
        'exported' => $names, 'data' => $data,
        'left' => $DB->count_records('block_edcissuer_cred', ['userid' => $user->id])
            + $DB->count_records('block_edcissuer_status', ['userid' => $user->id])
            + $DB->count_records_select('files', "component = 'block_edcissuer' AND filename <> '.' AND contextid = ?",
                [context_user::instance($user->id)->id])]) . "\n";
} else if ($command === 'newcourse') {
    // A second course (shortname) with the learner enrolled: for checks that delete their course.
    require_once($CFG->dirroot . '/course/lib.php');
    $course = $DB->get_record('course', ['shortname' => $argv[2]])
        ?: create_course((object)['fullname' => 'Course ' . $argv[2], 'shortname' => $argv[2], 'category' => 1]);
    $instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
    enrol_get_plugin('manual')->enrol_user($instance, (int)$argv[3], $DB->get_field('role', 'id', ['shortname' => 'student']));
    echo json_encode(['courseid' => (int)$course->id]) . "\n";
} else if ($command === 'deletecourse') {
    \core\session\manager::set_user(get_admin());
    delete_course((int)$argv[2], false);
    echo json_encode(['left' => [
        'spec' => $DB->count_records('block_edcissuer_spec', ['courseid' => (int)$argv[2]]),
        'status' => $DB->count_records('block_edcissuer_status', ['courseid' => (int)$argv[2]]),
        'cred' => $DB->count_records('block_edcissuer_cred', ['courseid' => (int)$argv[2]]),
    ]]) . "\n";
} else {
    fwrite(STDERR, "usage: state|reset|config|coreconfig|privacy|newcourse|deletecourse\n");
    exit(2);
}
