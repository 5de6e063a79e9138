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
 * Teacher page: learners' completion and credential status; "Issue credential".
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\issuance_store;
use block_edcissuer\issuer;
use block_edcissuer\local\event_payload;
use block_edcissuer\output\teacher_page;

require(__DIR__ . '/../../config.php');

$courseid = required_param('courseid', PARAM_INT);
$course = get_course($courseid);
require_login($course);
$context = context_course::instance($course->id);
require_capability('block/edcissuer:issue', $context);

$url = new moodle_url('/blocks/edcissuer/issue.php', ['courseid' => $course->id]);
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('incourse');
$PAGE->set_title(get_string('issuepage', 'block_edcissuer'));
$PAGE->set_heading(format_string($course->fullname, true, ['context' => $context]));

// Learners as Moodle's completion reports count them (students), not everyone who may view own credentials.
$learners = get_enrolled_users($context, 'moodle/course:isincompletionreports', 0, 'u.*', 'u.lastname, u.firstname', 0, 0, true);
$completions = $DB->get_records_select_menu('course_completions', 'course = :course AND timecompleted > 0',
    ['course' => $course->id], '', 'userid, timecompleted');

$action = optional_param('action', '', PARAM_ALPHA);
if ($action !== '') {
    require_sesskey();
    if ($action === 'allcompleted') {
        $chosen = array_keys(array_intersect_key($completions, $learners));
    } else {
        $chosen = array_intersect(optional_param_array('userids', [], PARAM_INT), array_keys($learners));
    }
    $issuer = new issuer();
    $now = time();
    foreach ($chosen as $userid) {
        $completed = isset($completions[$userid]) ? (int)$completions[$userid] : null;
        $issuer->request(event_payload::TYPE_REQUESTED, (int)$course->id, (int)$userid, $now, $completed, (int)$USER->id);
    }
    $message = $chosen ? get_string('requested', 'block_edcissuer', count($chosen)) : get_string('nonechosen', 'block_edcissuer');
    redirect($url, $message, null, $chosen ? \core\output\notification::NOTIFY_SUCCESS : \core\output\notification::NOTIFY_WARNING);
}

// Pull the sidecar's view first, so the page shows what happened since the last callback.
$syncproblem = null;
try {
    (new issuer())->sync_course((int)$course->id);
} catch (moodle_exception $e) {
    $syncproblem = $e->getMessage();
}

$page = new teacher_page($course, $learners, $completions, (new issuance_store())->course_statuses((int)$course->id));
if ($page->has_pending()) {
    $PAGE->set_periodic_refresh_delay(5);
}
echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('issuepage', 'block_edcissuer'));
if ($syncproblem !== null) {
    echo $OUTPUT->notification(get_string('syncfailed', 'block_edcissuer', s($syncproblem)), 'warning');
}
echo $OUTPUT->render_from_template('block_edcissuer/teacher_page', $page->export_for_template($OUTPUT));
echo $OUTPUT->footer();
