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
 * Asking for a learner who has not completed the course is a deliberate act: a confirmation names those
 * learners and asks why; the request is then recorded as an exception with that reason (shown here, sent to
 * the sidecar's audit). The page shows Moodle's records; only "Check the sidecar now" (and the scheduled
 * task \block_edcissuer\task\sync_statuses) asks the sidecar.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\issuance_store;
use block_edcissuer\issuer;
use block_edcissuer\local\event_payload;
use block_edcissuer\local\plural;
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
if ($action === 'sync') {
    require_sesskey();
    try {
        $changed = (new issuer())->sync_course((int)$course->id);
        redirect($url, get_string('synced_' . plural::form(current_language(), $changed), 'block_edcissuer', $changed), null,
            \core\output\notification::NOTIFY_SUCCESS);
    } catch (moodle_exception $e) {
        redirect($url, get_string('syncfailed', 'block_edcissuer', $e->getMessage()), null,
            \core\output\notification::NOTIFY_WARNING);
    }
}
if ($action === 'selected' || $action === 'allcompleted') {
    require_sesskey();
    if ($action === 'allcompleted') {
        $chosen = array_keys(array_intersect_key($completions, $learners));
    } else {
        $chosen = array_values(array_intersect(optional_param_array('userids', [], PARAM_INT), array_keys($learners)));
    }
    $notcompleted = array_values(array_filter($chosen, static fn($id) => empty($completions[$id])));
    $reason = trim(optional_param('exceptionreason', '', PARAM_TEXT));
    $confirmed = optional_param('confirmexception', 0, PARAM_BOOL);
    if ($notcompleted && (!$confirmed || $reason === '')) {
        // A deliberate act: name those learners and ask why before anything is requested.
        $page = new teacher_page($course, $learners, $completions, []);
        echo $OUTPUT->header();
        echo $OUTPUT->heading(get_string('confirmexception', 'block_edcissuer'));
        echo $OUTPUT->render_from_template('block_edcissuer/confirm_exception',
            $page->exception_confirmation($chosen, $notcompleted, $confirmed && $reason === ''));
        echo $OUTPUT->footer();
        exit;
    }
    $issuer = new issuer();
    $now = time();
    foreach ($chosen as $userid) {
        $completed = isset($completions[$userid]) ? (int)$completions[$userid] : null;
        $issuer->request(event_payload::TYPE_REQUESTED, (int)$course->id, (int)$userid, $now, $completed, (int)$USER->id,
            $completed === null ? core_text::substr($reason, 0, 2000) : null);
    }
    $lang = current_language();
    $message = $chosen ? get_string('requested_' . plural::form($lang, count($chosen)), 'block_edcissuer', count($chosen))
        : get_string('nonechosen', 'block_edcissuer');
    if ($notcompleted) {
        $message .= ' ' . get_string('requestedexception_' . plural::form($lang, count($notcompleted)), 'block_edcissuer',
            count($notcompleted));
    }
    redirect($url, $message, null, $chosen ? \core\output\notification::NOTIFY_SUCCESS : \core\output\notification::NOTIFY_WARNING);
}

$page = new teacher_page($course, $learners, $completions, (new issuance_store())->course_statuses((int)$course->id));
if ($page->has_pending()) {
    $PAGE->set_periodic_refresh_delay(5);
}
echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('issuepage', 'block_edcissuer'));
echo $OUTPUT->render_from_template('block_edcissuer/teacher_page', $page->export_for_template($OUTPUT));
echo $OUTPUT->footer();
