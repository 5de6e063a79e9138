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

namespace block_edcissuer;

use block_edcissuer\local\event_payload;
use block_edcissuer\local\spec_mapper;
use block_edcissuer\local\status;

/**
 * Asks the sidecar for credentials: queues the request (fast, inside Moodle) and later sends it (in a task).
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class issuer {
    /** @var issuance_store */
    private issuance_store $store;

    /**
     * @param issuance_store|null $store
     */
    public function __construct(?issuance_store $store = null) {
        $this->store = $store ?? new issuance_store();
    }

    /**
     * Marks the learner queued and queues the adhoc task that sends the event. Never calls the sidecar.
     *
     * @param string $type event_payload::TYPE_COMPLETED or TYPE_REQUESTED
     * @param int $courseid
     * @param int $userid learner
     * @param int $eventtime completion or request time (makes the event id)
     * @param int|null $completedat completion time, null if not completed
     * @param int|null $requestedby teacher's user id for requests
     * @param string|null $exceptionreason the teacher's reason for asking for a learner who has not completed
     *                                     the course (a deliberate exception, shown on the page and audited by
     *                                     the sidecar); null for an ordinary request
     */
    public function request(string $type, int $courseid, int $userid, int $eventtime, ?int $completedat,
            ?int $requestedby, ?string $exceptionreason = null): void {
        // A new request starts a new round, whatever the last one ended in.
        $this->store->set_status($courseid, $userid, status::QUEUED, '', time(), ['requestedby' => $requestedby,
            'credentialid' => null, 'issuanceid' => null, 'exceptionreason' => $exceptionreason], true);
        $task = new task\send_event();
        $task->set_custom_data((object)[
            'type' => $type,
            'courseid' => $courseid,
            'userid' => $userid,
            'eventtime' => $eventtime,
            'completedat' => $completedat,
            'requestedby' => $requestedby,
            'exceptionreason' => $exceptionreason,
        ]);
        $task->set_component('block_edcissuer');
        \core\task\manager::queue_adhoc_task($task, true);
        $row = persistent\learner_status::for_learner($courseid, $userid);
        event\credential_requested::for_request($courseid, $userid, (int)$row->get('id'), $type,
            $exceptionreason !== null)->trigger();
    }

    /**
     * Builds the event from current Moodle data.
     *
     * @param \stdClass $data the task's custom data
     * @return array|null the event; null when the learner or course no longer exists
     */
    public function build_event(\stdClass $data): ?array {
        global $CFG, $DB;
        $course = $DB->get_record('course', ['id' => $data->courseid], 'id, shortname, fullname');
        $user = \core_user::get_user((int)$data->userid);
        if (!$course || !$user || $user->deleted) {
            return null;
        }
        $lang = event_payload::language((string)$user->lang);
        if (!in_array($lang, spec_mapper::LANGUAGES, true)) {
            $lang = (string)(get_config('block_edcissuer', 'defaultlang') ?: 'en');
        }
        return event_payload::build((string)$data->type,
            ['id' => sidecar_client::site_id(), 'url' => $CFG->wwwroot],
            ['id' => (int)$course->id, 'shortname' => $course->shortname,
                'fullname' => format_string($course->fullname, true, ['context' => \context_course::instance($course->id)])],
            ['id' => (int)$user->id, 'email' => $user->email, 'given_names' => $user->firstname,
                'family_name' => $user->lastname, 'lang' => $lang],
            $data->completedat === null ? null : (int)$data->completedat,
            $data->requestedby === null ? null : (int)$data->requestedby,
            (int)$data->eventtime, isset($data->exceptionreason) ? (string)$data->exceptionreason : null);
    }

    /**
     * Sends one queued event. Throws on anything a retry can fix, so Moodle's task retry takes over.
     *
     * @param \stdClass $data the task's custom data
     * @param sidecar_client|null $client
     * @return string what happened, for the task log (no personal data)
     * @throws sidecar_exception when unreachable, or on 401/408/429/5xx
     */
    public function send(\stdClass $data, ?sidecar_client $client = null): string {
        $courseid = (int)$data->courseid;
        $userid = (int)$data->userid;
        $event = $this->build_event($data);
        if ($event === null) {
            return 'learner or course gone; nothing sent';
        }
        $client = $client ?? sidecar_client::from_config();
        try {
            [$code, $answer] = $client->post_event(event_payload::encode($event));
        } catch (sidecar_exception $e) {
            // Unreachable or blocked by Moodle's own HTTP security: say so on the teacher page, then retry.
            $this->store->note($courseid, $userid, status::QUEUED, $e->a . ' (will retry)');
            throw $e;
        }
        if ($code >= 200 && $code < 300) {
            try {
                $state = status::from_sidecar((string)($answer['status'] ?? ''));
            } catch (\InvalidArgumentException $e) {
                // Accepted, but in words outside the contract: the request stands; say what came back.
                $this->store->note($courseid, $userid, status::QUEUED, $e->getMessage());
                return 'event ' . $event['event_id'] . ' accepted: HTTP ' . $code . ', ' . $e->getMessage();
            }
            $issuanceid = isset($answer['issuance_id']) ? (string)$answer['issuance_id'] : null;
            if (!$this->store->set_status($courseid, $userid, $state, '', time(), ['issuanceid' => $issuanceid])) {
                // Same status in the same second: keep it, but record the sidecar's id and drop the retry note.
                $this->store->note($courseid, $userid, $state, '');
                $this->store->set_issuance_id($courseid, $userid, $issuanceid);
            }
            return 'event ' . $event['event_id'] . ' accepted: HTTP ' . $code . ', status ' . $state;
        }
        $reason = 'HTTP ' . $code . sidecar_client::detail($answer);
        if ($code === 401 || $code === 408 || $code === 429 || $code >= 500) {
            $this->store->note($courseid, $userid, status::QUEUED, $reason . ' (will retry)');
            throw new sidecar_exception($reason);
        }
        // Other 4xx: the event itself is refused (e.g. no valid course description); a retry would not help.
        $this->store->set_status($courseid, $userid, status::FAILED, $reason, time());
        return 'event ' . $event['event_id'] . ' refused: ' . $reason;
    }

    /**
     * Pulls the sidecar's statuses of a course into the status table (for the teacher page).
     *
     * @param int $courseid
     * @param sidecar_client|null $client
     * @return int how many statuses changed
     * @throws sidecar_exception|\moodle_exception
     */
    public function sync_course(int $courseid, ?sidecar_client $client = null): int {
        $client = $client ?? sidecar_client::from_config();
        $changed = 0;
        foreach ($client->issuances(sidecar_client::site_id(), $courseid) as $item) {
            try {
                $state = status::from_sidecar((string)$item['status']);
            } catch (\InvalidArgumentException $e) {
                continue;
            }
            $time = is_string($item['updated_at'] ?? null) ? (int)strtotime($item['updated_at']) : 0;
            if ($time <= 0) {
                continue;
            }
            $extra = [
                'credentialid' => isset($item['credential_id']) ? (string)$item['credential_id'] : null,
                'issuanceid' => isset($item['issuance_id']) ? (string)$item['issuance_id'] : null,
            ];
            if ($this->store->set_status($courseid, (int)$item['userid'], $state, (string)($item['message'] ?? ''),
                    $time, $extra)) {
                $changed++;
            }
        }
        return $changed;
    }
}
