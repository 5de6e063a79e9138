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
 * "Export for Europass": the course's description as the sidecar exports it for Europass's course register
 * (QDR learning-opportunity XML or ELM v3 JSON-LD), downloaded; when the sidecar refuses (Europass would),
 * back to the description form naming what is missing.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\sidecar_client;

require(__DIR__ . '/../../config.php');

$courseid = required_param('courseid', PARAM_INT);
$format = required_param('format', PARAM_ALPHANUMEXT);
$course = get_course($courseid);
require_login($course);
$context = context_course::instance($course->id);
require_capability('block/edcissuer:managespec', $context);
require_sesskey();

$formats = ['qdr-xml' => ['xml', 'application/xml'], 'elm3-jsonld' => ['jsonld', 'application/ld+json']];
if (!isset($formats[$format])) {
    throw new moodle_exception('invalidparameter', 'debug');
}
$back = new moodle_url('/blocks/edcissuer/spec.php', ['courseid' => $course->id]);
try {
    [$code, $answer, $body] = sidecar_client::from_config()->europass_export(sidecar_client::site_id(), (int)$course->id,
        $format);
} catch (moodle_exception $e) {
    redirect($back, get_string('europassnotreached', 'block_edcissuer', $e->getMessage()), null,
        \core\output\notification::NOTIFY_ERROR);
}
if ($code !== 200) {
    $lines = [];
    foreach (array_slice((array)($answer['problems'] ?? []), 0, 20) as $problem) {
        if (is_array($problem)) {
            $lines[] = trim((string)($problem['pointer'] ?? '') . ': ' . (string)($problem['message'] ?? ''), ': ');
        }
    }
    $detail = $lines ? implode('; ', $lines) : 'HTTP ' . $code . sidecar_client::detail($answer);
    redirect($back, get_string('europassrefused', 'block_edcissuer', $detail), null, \core\output\notification::NOTIFY_ERROR);
}
[$extension, $mimetype] = $formats[$format];
$filename = clean_filename('europass-' . ($course->shortname ?: $course->id) . '.' . $extension);
send_file($body, $filename, 0, 0, true, true, $mimetype);
