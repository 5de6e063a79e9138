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
 * What a credential's listing needs from its course description, kept with the credential when it is stored:
 * the title and the awarding body's name as JSON language maps, primary language first. A credential is the
 * learner's record and must read the same after the course (and its description) is gone.
 *
 * Plain PHP so the Moodle-free tests cover it.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class spec_snapshot {
    /**
     * @param array $spec a course description (schemas/course-credential.schema.json), may be []
     * @return array ['title' => JSON or null, 'awardingbody' => JSON or null]
     */
    public static function of(array $spec): array {
        $primary = is_string($spec['primary_language'] ?? null) ? $spec['primary_language'] : 'en';
        $body = $spec['awarding_body']['name'] ?? $spec['issuer']['name'] ?? null;
        return ['title' => self::language_map($spec['title'] ?? null, $primary),
            'awardingbody' => self::language_map($body, $primary)];
    }

    /**
     * A language map with its primary language first, as JSON; null when there is no text in it.
     *
     * @param mixed $map ['en' => '...', 'lt' => '...']
     * @param string $primary
     * @return string|null
     */
    public static function language_map($map, string $primary): ?string {
        if (!is_array($map)) {
            return null;
        }
        $texts = array_filter($map, static fn($text, $lang) => is_string($lang) && is_string($text) && trim($text) !== '',
            ARRAY_FILTER_USE_BOTH);
        if (!$texts) {
            return null;
        }
        if (isset($texts[$primary])) {
            $texts = [$primary => $texts[$primary]] + $texts;
        }
        return json_encode($texts, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    }

    /**
     * The text of a stored map in the viewer's language, else its first (primary) language.
     *
     * @param string|null $json as language_map() made it
     * @param string $lang two-letter code
     * @return string '' when there is none
     */
    public static function text_in(?string $json, string $lang): string {
        $map = $json ? json_decode($json, true) : null;
        if (!is_array($map) || !$map) {
            return '';
        }
        return (string)($map[$lang] ?? reset($map));
    }
}
