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

namespace block_edcissuer\local;

/**
 * Builds the JSON event the sidecar's intake takes (/work/shared/DESIGN.md, "Contracts").
 *
 * Plain PHP so the Moodle-free tests can check the exact bytes: the body is signed, so key order and
 * escaping matter to anyone who re-computes the signature.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class event_payload {
    /** A learner completed the course (Moodle's completion said so). */
    public const TYPE_COMPLETED = 'course_completed';
    /** A teacher clicked "Issue credential". */
    public const TYPE_REQUESTED = 'issue_requested';

    /**
     * A site-unique, repeatable id: the same completion always gives the same id, so the sidecar can
     * drop a retried event instead of issuing twice.
     *
     * @param string $siteid this Moodle's id at the sidecar
     * @param string $type one of the TYPE_ constants
     * @param int $courseid Moodle course id
     * @param int $userid Moodle user id of the learner
     * @param int $time completion time (or request time for teacher requests), Unix seconds
     * @return string
     */
    public static function event_id(string $siteid, string $type, int $courseid, int $userid, int $time): string {
        self::check_type($type);
        return implode(':', [$siteid, $type, $courseid, $userid, $time]);
    }

    /**
     * The event as an array, keys in the contract's order.
     *
     * @param string $type one of the TYPE_ constants
     * @param array $site ['id' => string, 'url' => string]
     * @param array $course ['id' => int, 'shortname' => string, 'fullname' => string]
     * @param array $learner ['id' => int, 'email' => string, 'given_names' => string, 'family_name' => string,
     *                       'lang' => Moodle language code]
     * @param int|null $completedat completion time, Unix seconds; null when not completed
     * @param int|null $requestedby Moodle user id of the teacher who asked, null for automatic issue
     * @param int $eventtime time that makes the event id unique (completion or request time)
     * @param string|null $exceptionreason a teacher's reason for asking for a learner who has not completed the
     *                                     course; only for TYPE_REQUESTED, and left out of the body when null
     * @return array
     */
    public static function build(string $type, array $site, array $course, array $learner, ?int $completedat,
            ?int $requestedby, int $eventtime, ?string $exceptionreason = null): array {
        self::check_type($type);
        foreach (['id', 'url'] as $key) {
            self::require_field($site, $key, 'site');
        }
        foreach (['id', 'shortname', 'fullname'] as $key) {
            self::require_field($course, $key, 'course');
        }
        foreach (['id', 'email', 'given_names', 'family_name'] as $key) {
            self::require_field($learner, $key, 'learner');
        }
        if ($exceptionreason !== null && ($type !== self::TYPE_REQUESTED || trim($exceptionreason) === '')) {
            throw new \InvalidArgumentException('exception_reason: only a teacher\'s request carries one, and not empty');
        }
        $event = [
            'event_id' => self::event_id((string)$site['id'], $type, (int)$course['id'], (int)$learner['id'], $eventtime),
            'type' => $type,
            'site' => ['id' => (string)$site['id'], 'url' => (string)$site['url']],
            'course' => [
                'id' => (int)$course['id'],
                'shortname' => (string)$course['shortname'],
                'fullname' => (string)$course['fullname'],
            ],
            'learner' => [
                'id' => (int)$learner['id'],
                'email' => (string)$learner['email'],
                'given_names' => (string)$learner['given_names'],
                'family_name' => (string)$learner['family_name'],
                'lang' => self::language($learner['lang'] ?? ''),
            ],
            'completed_at' => $completedat === null ? null : gmdate('Y-m-d\TH:i:s\Z', $completedat),
            'requested_by' => $requestedby,
        ];
        if ($exceptionreason !== null) {
            $event['exception_reason'] = trim($exceptionreason);
        }
        return $event;
    }

    /**
     * The exact bytes sent: UTF-8 JSON, no escaped slashes or Unicode, so the body reads as the data.
     *
     * @param array $payload as build() made it
     * @return string
     */
    public static function encode(array $payload): string {
        return json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    }

    /**
     * Moodle's language code ("lt", "en_us", "pt_br") as the two-letter ISO 639-1 code the sidecar wants.
     *
     * @param string $moodlelang Moodle language code, may be empty
     * @return string two lower-case letters; "en" when nothing usable is given
     */
    public static function language(string $moodlelang): string {
        $code = strtolower(substr(trim($moodlelang), 0, 2));
        return preg_match('/^[a-z]{2}$/', $code) ? $code : 'en';
    }

    /**
     * @param string $type
     */
    private static function check_type(string $type): void {
        if ($type !== self::TYPE_COMPLETED && $type !== self::TYPE_REQUESTED) {
            throw new \InvalidArgumentException('type: must be course_completed or issue_requested, got "' . $type . '"');
        }
    }

    /**
     * @param array $data
     * @param string $key
     * @param string $where
     */
    private static function require_field(array $data, string $key, string $where): void {
        if (!array_key_exists($key, $data) || $data[$key] === null || $data[$key] === '') {
            throw new \InvalidArgumentException($where . '.' . $key . ': missing or empty');
        }
    }
}
