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
    return true;
}
