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
 * Upgrade steps of block_edcissuer.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Runs the upgrade steps newer than the installed version.
 *
 * @param int $oldversion the version installed before
 * @return bool
 */
function xmldb_block_edcissuer_upgrade($oldversion): bool {
    global $DB;

    if ($oldversion < 2026120200) {
        // One vocabulary with the sidecar (classes/local/formats.php): the old names become the sidecar's,
        // and a file the first releases labelled EDC XML although it is JSON (an older sidecar sent no
        // format) gets its true format and MIME type.
        foreach ($DB->get_records_select('block_edcissuer_cred', 'format IN (?, ?)', array_keys(
                \block_edcissuer\local\formats::ALIASES)) as $row) {
            $format = \block_edcissuer\local\formats::of_file('', $row->filename)
                ?? \block_edcissuer\local\formats::canonical($row->format);
            if (!$DB->record_exists('block_edcissuer_cred', ['credentialid' => $row->credentialid, 'format' => $format])) {
                $DB->set_field('block_edcissuer_cred', 'format', $format, ['id' => $row->id]);
            }
        }
        foreach (\block_edcissuer\local\formats::EXTENSIONS as $format => $extension) {
            $DB->set_field_select('files', 'mimetype', \block_edcissuer\local\formats::mime_type($format),
                "component = 'block_edcissuer' AND filearea = 'credential' AND " . $DB->sql_like('filename', '?'),
                ['%.' . $extension]);
        }
        upgrade_block_savepoint(true, 2026120200, 'edcissuer');
    }

    if ($oldversion < 2026120400) {
        $dbman = $DB->get_manager();
        // core\persistent's bookkeeping columns on every table.
        $bookkeeping = [
            'block_edcissuer_spec' => ['timecreated', 'usermodified'],
            'block_edcissuer_status' => ['timecreated', 'usermodified'],
            'block_edcissuer_cred' => ['timemodified', 'usermodified'],
        ];
        foreach ($bookkeeping as $tablename => $fields) {
            $table = new xmldb_table($tablename);
            foreach ($fields as $name) {
                $field = new xmldb_field($name, XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
                if (!$dbman->field_exists($table, $field)) {
                    $dbman->add_field($table, $field);
                }
            }
        }
        // core\persistent reserves "errors" (its validation errors).
        $spec = new xmldb_table('block_edcissuer_spec');
        $field = new xmldb_field('errors', XMLDB_TYPE_TEXT, null, null, null, null, null, 'spec');
        if ($dbman->field_exists($spec, $field)) {
            $dbman->rename_field($spec, $field, 'problems');
        }
        $status = new xmldb_table('block_edcissuer_status');
        $field = new xmldb_field('exceptionreason', XMLDB_TYPE_TEXT, null, null, null, null, null, 'requestedby');
        if (!$dbman->field_exists($status, $field)) {
            $dbman->add_field($status, $field);
        }
        // Each credential's own status, and what its page needs when its course is gone.
        $cred = new xmldb_table('block_edcissuer_cred');
        $fields = [
            new xmldb_field('status', XMLDB_TYPE_CHAR, '20', null, XMLDB_NOTNULL, null, 'issued', 'verifyurl'),
            new xmldb_field('reason', XMLDB_TYPE_TEXT, null, null, null, null, null, 'status'),
            new xmldb_field('supersededby', XMLDB_TYPE_CHAR, '255', null, null, null, null, 'reason'),
            new xmldb_field('timestatus', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0', 'supersededby'),
            new xmldb_field('title', XMLDB_TYPE_TEXT, null, null, null, null, null, 'timestatus'),
            new xmldb_field('awardingbody', XMLDB_TYPE_TEXT, null, null, null, null, null, 'title'),
            new xmldb_field('coursename', XMLDB_TYPE_TEXT, null, null, null, null, null, 'awardingbody'),
            new xmldb_field('shared', XMLDB_TYPE_INTEGER, '1', null, XMLDB_NOTNULL, null, '0', 'coursename'),
            new xmldb_field('publicurl', XMLDB_TYPE_TEXT, null, null, null, null, null, 'shared'),
        ];
        foreach ($fields as $field) {
            if (!$dbman->field_exists($cred, $field)) {
                $dbman->add_field($cred, $field);
            }
        }
        // Fill them from what the plugin already knows: the course status row that names the credential,
        // the course and its description.
        $rows = $DB->get_recordset('block_edcissuer_cred');
        foreach ($rows as $row) {
            $status = $DB->get_record('block_edcissuer_status', ['courseid' => $row->courseid, 'userid' => $row->userid,
                'credentialid' => $row->credentialid]);
            $update = (object)['id' => $row->id, 'timestatus' => $row->timecreated, 'timemodified' => $row->timecreated];
            if ($status && in_array($status->status, ['delivered', 'revoked'], true)) {
                $update->status = $status->status;
                $update->timestatus = $status->timestatus;
                $update->reason = $status->status === 'revoked' ? $status->message : null;
            }
            $update->coursename = $DB->get_field('course', 'fullname', ['id' => $row->courseid]) ?: null;
            $spec = json_decode((string)$DB->get_field('block_edcissuer_spec', 'spec', ['courseid' => $row->courseid]), true);
            $snapshot = \block_edcissuer\local\spec_snapshot::of(is_array($spec) ? $spec : []);
            $update->title = $snapshot['title'];
            $update->awardingbody = $snapshot['awardingbody'];
            $DB->update_record('block_edcissuer_cred', $update);
        }
        $rows->close();
        upgrade_block_savepoint(true, 2026120400, 'edcissuer');
    }
    return true;
}
