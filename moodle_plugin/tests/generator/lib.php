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
 * Data generator of block_edcissuer, for Moodle PHPUnit tests: course descriptions, learner statuses and stored
 * credentials (through the plugin's own store, so files, snapshots and events are as in production).
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class block_edcissuer_generator extends component_generator_base {
    /** @var int numbers credential ids */
    private int $count = 0;

    /**
     * Resets the counter between tests.
     */
    public function reset() {
        $this->count = 0;
    }

    /**
     * A course's credential description (default: the pilot DATA101 description of the repository).
     *
     * @param int $courseid
     * @param array|null $document the description
     * @return \block_edcissuer\persistent\course_spec
     */
    public function create_spec(int $courseid, ?array $document = null): \block_edcissuer\persistent\course_spec {
        $document = $document ?? [
            'schema_version' => '1.0', 'primary_language' => 'en', 'languages' => ['en', 'lt'],
            'title' => ['en' => 'Data Literacy for Everyone', 'lt' => 'Duomenų raštingumas visiems'],
            'awarding_body' => ['name' => ['en' => 'Nemunas University of Technology',
                'lt' => 'Nemuno technologijos universitetas']],
        ];
        return \block_edcissuer\persistent\course_spec::save_document($courseid, $document);
    }

    /**
     * A learner's status in a course.
     *
     * @param array $record courseid, userid; status (default queued), message, credentialid, requestedby,
     *                      exceptionreason, timestatus
     * @return \block_edcissuer\persistent\learner_status
     */
    public function create_status(array $record): \block_edcissuer\persistent\learner_status {
        (new \block_edcissuer\issuance_store())->set_status((int)$record['courseid'], (int)$record['userid'],
            $record['status'] ?? 'queued', $record['message'] ?? '', $record['timestatus'] ?? time(),
            array_intersect_key($record, array_flip(['credentialid', 'requestedby', 'exceptionreason'])), true);
        return \block_edcissuer\persistent\learner_status::for_learner((int)$record['courseid'], (int)$record['userid']);
    }

    /**
     * A sealed credential stored for a learner, as the sidecar's web service stores one.
     *
     * @param array $record userid, courseid; credentialid, format (edc-xml), filename, content, verifyurl
     * @return \block_edcissuer\persistent\credential
     */
    public function create_credential(array $record): \block_edcissuer\persistent\credential {
        $this->count++;
        $id = $record['credentialid'] ?? sprintf('urn:credential:00000000-0000-4000-8000-%012d', $this->count);
        $format = $record['format'] ?? 'edc-xml';
        $content = $record['content'] ?? '<europassCredential xmlns="http://data.europa.eu/snb" id="' . $id . '"/>';
        $filename = $record['filename'] ?? 'credential-' . $this->count . '.'
            . \block_edcissuer\local\formats::EXTENSIONS[$format];
        [, $credential] = (new \block_edcissuer\issuance_store())->store_credential((int)$record['userid'],
            (int)$record['courseid'], $id, $format, $filename, $content,
            $record['verifyurl'] ?? 'https://edc.example/credentials/' . $id . '?t=token' . $this->count);
        return $credential;
    }
}
