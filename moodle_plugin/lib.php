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
 * Moodle callbacks of block_edcissuer.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Serves a sealed credential file: to its owner, and to staff who may issue in its course.
 *
 * @param stdClass $course course of the context (site for user contexts)
 * @param stdClass|null $birecord block instance record, null outside a block context
 * @param context $context the learner's user context
 * @param string $filearea must be 'credential'
 * @param array $args [itemid, filename]
 * @param bool $forcedownload
 * @param array $options
 * @return bool false when not found (send_stored_file exits on success)
 */
function block_edcissuer_pluginfile($course, $birecord, $context, $filearea, $args, $forcedownload, array $options = []) {
    global $USER;
    if ($context->contextlevel != CONTEXT_USER || $filearea !== \block_edcissuer\issuance_store::FILEAREA
            || count($args) < 2) {
        return false;
    }
    require_login(null, false);
    $itemid = (int)array_shift($args);
    $filename = array_pop($args);
    $record = \block_edcissuer\persistent\credential::get_record(['id' => $itemid, 'userid' => $context->instanceid]);
    if (!$record || $record->get('filename') !== $filename) {
        return false;
    }
    $owner = (int)$USER->id === (int)$record->get('userid');
    // The credential stays the learner's after its course is deleted; staff then have no course to act in.
    $coursecontext = context_course::instance($record->get('courseid'), IGNORE_MISSING);
    if ($owner) {
        $allowed = has_capability('block/edcissuer:viewown', $coursecontext ?: context_system::instance())
            || has_capability('block/edcissuer:viewown', context_system::instance());
    } else {
        $allowed = $coursecontext && has_capability('block/edcissuer:issue', $coursecontext);
    }
    if (!$allowed) {
        throw new required_capability_exception($coursecontext ?: context_system::instance(),
            $owner ? 'block/edcissuer:viewown' : 'block/edcissuer:issue', 'nopermissions', '');
    }
    $file = get_file_storage()->get_file($context->id, 'block_edcissuer', $filearea, $itemid, '/', $filename);
    if (!$file) {
        return false;
    }
    send_stored_file($file, 0, 0, true, $options);
}
