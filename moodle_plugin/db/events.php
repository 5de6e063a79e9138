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
 * Event observers of block_edcissuer.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$observers = [
    [
        'eventname' => '\core\event\course_completed',
        'callback' => '\block_edcissuer\observer::course_completed',
        'internal' => false, // Only after the completion is committed, so the task sees it.
    ],
    [
        // The course's description and pending requests go; its sealed credentials stay the learners'.
        'eventname' => '\core\event\course_deleted',
        'callback' => '\block_edcissuer\observer::course_deleted',
    ],
    [
        // delete_user(): Moodle removes the files of the user's context, the plugin its rows.
        'eventname' => '\core\event\user_deleted',
        'callback' => '\block_edcissuer\observer::user_deleted',
    ],
];
