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

namespace block_edcissuer\task;

use block_edcissuer\issuer;

/**
 * Sends one event (course completed / issue requested) to the sidecar.
 *
 * An exception makes Moodle retry the task later with a growing delay, which is the retry policy we want
 * for an unreachable sidecar; the event id stays the same, so the sidecar never issues twice.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_event extends \core\task\adhoc_task {
    /**
     * @return string
     */
    public function get_name(): string {
        return get_string('tasksendevent', 'block_edcissuer');
    }

    /**
     * Sends the event; throws when it should be retried.
     */
    public function execute(): void {
        mtrace('block_edcissuer: ' . (new issuer())->send($this->get_custom_data()));
    }
}
