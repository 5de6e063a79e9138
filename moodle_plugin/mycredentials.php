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
 * My credentials, the full page: every credential of the learner, with all its actions.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require(__DIR__ . '/../../config.php');

require_login(null, false);
if (isguestuser()) {
    throw new require_login_exception('guests have no credentials');
}
$context = context_user::instance($USER->id);
require_capability('block/edcissuer:viewown', context_system::instance());

$url = new moodle_url('/blocks/edcissuer/mycredentials.php');
$PAGE->set_url($url);
$PAGE->set_context($context);
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('mycredentials', 'block_edcissuer'));
$PAGE->set_heading(get_string('mycredentials', 'block_edcissuer'));

$mine = new \block_edcissuer\output\my_credentials((int)$USER->id, null, true);
echo $OUTPUT->header();
echo $OUTPUT->render_from_template('block_edcissuer/my_credentials', $mine->export_for_template($OUTPUT));
echo $OUTPUT->footer();
