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
 * The course credential description: edit, save in Moodle, send to the sidecar, show its validation errors.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\form\spec_form;
use block_edcissuer\persistent\course_spec;
use block_edcissuer\local\spec_mapper;
use block_edcissuer\sidecar_client;

require(__DIR__ . '/../../config.php');

$courseid = required_param('courseid', PARAM_INT);
$course = get_course($courseid);
require_login($course);
$context = context_course::instance($course->id);
require_capability('block/edcissuer:managespec', $context);

$url = new moodle_url('/blocks/edcissuer/spec.php', ['courseid' => $course->id]);
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('incourse');
$PAGE->set_title(get_string('specpage', 'block_edcissuer'));
$PAGE->set_heading(format_string($course->fullname, true, ['context' => $context]));

$record = course_spec::for_course((int)$course->id);
$stored = $record ? $record->document() : [];
$formdata = spec_mapper::to_form($stored);
$form = new spec_form($url, ['courseid' => $course->id, 'outcomes' => $formdata['learning_outcomes_count']]);

if ($form->is_cancelled()) {
    redirect(new moodle_url('/course/view.php', ['id' => $course->id]));
}

$notices = [];
$generalerrors = [];
if ($data = $form->get_data()) {
    $submitted = (array)$data;
    $spec = spec_mapper::to_spec($submitted);
    $record = course_spec::save_document((int)$course->id, $spec);
    try {
        [$code, $answer] = sidecar_client::from_config()->put_specification(sidecar_client::site_id(), (int)$course->id, $spec);
        try {
            $problems = spec_mapper::problems_from_answer($code, $answer);
        } catch (UnexpectedValueException $e) {
            $problems = false;
            $notices[] = [get_string('specnotsent', 'block_edcissuer', 'HTTP ' . $code . sidecar_client::detail($answer)),
                'warning'];
        }
        if ($problems === null) {
            $record->mark_sent();
            redirect($url, get_string('specaccepted', 'block_edcissuer'), null, \core\output\notification::NOTIFY_SUCCESS);
        } else if ($problems !== false) {
            $record->mark_refused($problems);
            $generalerrors = $form->set_sidecar_errors($problems, $submitted);
            $notices[] = [get_string('specrefused', 'block_edcissuer', count($problems)), 'error'];
        }
    } catch (moodle_exception $e) {
        $notices[] = [get_string('specnotsent', 'block_edcissuer', $e->getMessage()), 'warning'];
    }
} else if (!$form->is_submitted()) {
    if (!$record) {
        $formdata['primary_language'] = get_config('block_edcissuer', 'defaultlang') ?: 'en';
    }
    $form->set_data($formdata);
    if ($record && $record->problems()) {
        $generalerrors = $form->set_sidecar_errors($record->problems(), $formdata);
        $notices[] = [get_string('specstillrefused', 'block_edcissuer'), 'error'];
    } else if ($record && !$record->get('timesent')) {
        $notices[] = [get_string('specnotyetsent', 'block_edcissuer'), 'warning'];
    }
}

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('specpage', 'block_edcissuer'));
if (has_capability('block/edcissuer:managespec', $context)) {
    // "Export for Europass": the description as the sidecar exports it for Europass's course register.
    $links = [];
    foreach (['qdr-xml' => 'europass_qdr', 'elm3-jsonld' => 'europass_elm3'] as $format => $label) {
        $links[] = html_writer::link(new moodle_url('/blocks/edcissuer/europass.php', ['courseid' => $course->id,
            'format' => $format, 'sesskey' => sesskey()]), get_string($label, 'block_edcissuer'));
    }
    echo html_writer::div(get_string('europassexport', 'block_edcissuer') . ': ' . implode(' · ', $links),
        'block_edcissuer-europass');
}
foreach ($notices as [$text, $type]) {
    echo $OUTPUT->notification(s($text), $type);
}
if ($generalerrors) {
    echo $OUTPUT->notification(html_writer::alist(array_map('s', $generalerrors)), 'error');
}
$form->display();
echo $OUTPUT->footer();
