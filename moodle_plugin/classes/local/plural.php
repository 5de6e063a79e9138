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
 * Which plural form a count takes in English and Lithuanian (Unicode CLDR plural rules, whole numbers).
 *
 * Moodle's strings have no plurals, so a counted message has one string per form, e.g. requested_one,
 * requested_few, requested_other, and get_string('requested_' . plural::form($lang, $n), ...). English knows
 * one and other; Lithuanian one (1, 21, 31, … but not 11), few (2–9, 22–29, … but not 12–19) and other
 * (0, 10–20, 30, …: "kredencialų"). Other languages fall back to English's rule.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class plural {
    /** Every form a counted string must have (in both language packs, so they hold the same keys). */
    public const FORMS = ['one', 'few', 'other'];

    /**
     * @param string $lang Moodle language code (lt, en, en_us, …)
     * @param int $count
     * @return string one of FORMS
     */
    public static function form(string $lang, int $count): string {
        $n = abs($count);
        if (strtolower(substr($lang, 0, 2)) === 'lt') {
            $tens = $n % 100;
            if ($tens >= 11 && $tens <= 19) {
                return 'other';
            }
            if ($n % 10 === 1) {
                return 'one';
            }
            return $n % 10 >= 2 ? 'few' : 'other';
        }
        return $n === 1 ? 'one' : 'other';
    }
}
