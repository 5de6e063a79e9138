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
 * The credential formats, named as the sidecar names them (bridge/edc/formats.py): one vocabulary.
 *
 * Plain PHP (no Moodle calls) so the Moodle-free unit tests can check it against the sidecar's schema.
 * The plugin's first releases stored `edc-xml-v1` / `elm-v3-jsonld`; those are read as aliases and the
 * upgrade step renames the stored records.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class formats {
    /** The formats, in the sidecar's order (the first is the default). */
    public const NAMES = ['edc-xml', 'elm3-jsonld', 'ob3-vcjwt'];
    /** Older names, as earlier releases of the plugin stored them. */
    public const ALIASES = ['edc-xml-v1' => 'edc-xml', 'elm-v3-jsonld' => 'elm3-jsonld'];
    /** How each is served on download. */
    public const MIME_TYPES = ['edc-xml' => 'application/xml', 'elm3-jsonld' => 'application/ld+json',
        'ob3-vcjwt' => 'application/vc+jwt'];
    /** The file name extension of each. */
    public const EXTENSIONS = ['edc-xml' => 'xml', 'elm3-jsonld' => 'json', 'ob3-vcjwt' => 'jwt'];

    /** The form's choice for a course that issues both EDC formats (the same credential in each). */
    public const BOTH = 'both';
    /** What that choice means in the description. */
    public const BOTH_FORMATS = ['edc-xml', 'elm3-jsonld'];

    /**
     * The form's choices: each format, and both EDC formats.
     *
     * @return string[]
     */
    public static function choices(): array {
        return array_merge(self::NAMES, [self::BOTH]);
    }

    /**
     * The description's `format` for the form's choice: a name, or the list of both EDC formats.
     *
     * @param string $choice
     * @return string|string[]
     */
    public static function to_spec(string $choice) {
        return $choice === self::BOTH ? self::BOTH_FORMATS : $choice;
    }

    /**
     * The form's choice for the description's `format` (a name, or a list of names).
     *
     * @param mixed $value
     * @return string
     */
    public static function to_form($value): string {
        if (is_array($value)) {
            $names = array_values(array_filter($value, 'is_string'));
            return $names === self::BOTH_FORMATS ? self::BOTH : (string)($names[0] ?? '');
        }
        return is_string($value) ? $value : '';
    }

    /**
     * The one name of a format given by name or old alias.
     *
     * @param string $name
     * @return string|null null when it is no format
     */
    public static function canonical(string $name): ?string {
        $name = strtolower(trim($name));
        if (in_array($name, self::NAMES, true)) {
            return $name;
        }
        return self::ALIASES[$name] ?? null;
    }

    /**
     * The format of a file the sidecar stores: the one it names, else (an older sidecar that did not send
     * it) the one its file name's extension says. The two must agree, so a file is never labelled wrongly.
     *
     * @param string $format as sent, '' when not sent
     * @param string $filename
     * @return string|null null when unknown or when the extension contradicts it
     */
    public static function of_file(string $format, string $filename): ?string {
        $extension = strtolower(pathinfo($filename, PATHINFO_EXTENSION));
        $byextension = array_search($extension, self::EXTENSIONS, true);
        if (trim($format) === '') {
            return $byextension === false ? null : $byextension;
        }
        $named = self::canonical($format);
        if ($named === null || ($byextension !== false && $byextension !== $named)) {
            return null;
        }
        return $named;
    }

    /**
     * @param string $name a format name or alias
     * @return string the MIME type the download is served with
     */
    public static function mime_type(string $name): string {
        return self::MIME_TYPES[self::canonical($name) ?? ''] ?? 'application/octet-stream';
    }

    /**
     * @param string $name a format name or alias (as a stored record may hold)
     * @return string the language string naming it for people, e.g. formatlabel_elm3jsonld
     */
    public static function label_key(string $name): string {
        return 'formatlabel_' . str_replace('-', '', self::canonical($name) ?? 'unknown');
    }
}
