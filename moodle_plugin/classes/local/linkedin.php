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
 * LinkedIn's "Add to profile" link for a certification, filled from a credential.
 *
 * LinkedIn documents the link (https://addtoprofile.linkedin.com): startTask=CERTIFICATION_NAME opens the
 * "Add licence or certification" form with the name, the organisation, the issue year and month, the
 * credential id and its public URL filled in. Plain PHP so the Moodle-free tests check it.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class linkedin {
    /** LinkedIn's add-to-profile address. */
    public const BASE = 'https://www.linkedin.com/profile/add';

    /**
     * @param string $name the credential's title
     * @param string $organisation the awarding body's name
     * @param int $issued issue time, Unix seconds (LinkedIn takes the year and month, UTC)
     * @param string $credentialid the credential's id, as a verifier would look it up
     * @param string $publicurl the public page anyone may open (the learner shares it)
     * @return string
     * @throws \InvalidArgumentException when the public URL is not an http(s) URL: LinkedIn would link nowhere
     */
    public static function add_to_profile_url(string $name, string $organisation, int $issued, string $credentialid,
            string $publicurl): string {
        if (!preg_match('~^https?://\S+$~', $publicurl)) {
            throw new \InvalidArgumentException('publicurl: an http(s) URL is needed for LinkedIn, got "' . $publicurl . '"');
        }
        $query = array_filter([
            'startTask' => 'CERTIFICATION_NAME',
            'name' => trim($name),
            'organizationName' => trim($organisation),
            'issueYear' => gmdate('Y', $issued),
            'issueMonth' => (string)(int)gmdate('n', $issued),
            'certUrl' => $publicurl,
            'certId' => $credentialid,
        ], static fn($value) => $value !== '');
        return self::BASE . '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    }
}
