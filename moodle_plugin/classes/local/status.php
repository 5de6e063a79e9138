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
 * The credential statuses Moodle shows, and how the sidecar's status names map onto them.
 *
 * Plain PHP so the Moodle-free tests cover the mapping and the ordering rule.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class status {
    /** Nothing asked yet (no row). */
    public const NOT_ISSUED = 'notissued';
    /** Waiting: in Moodle's task queue or in the sidecar's. */
    public const QUEUED = 'queued';
    /** Sealed by the sidecar. */
    public const ISSUED = 'issued';
    /** Sent to the learner (email and/or stored in Moodle). */
    public const DELIVERED = 'delivered';
    /** The last attempt failed; it may still be retried. */
    public const FAILED = 'failed';
    /** Withdrawn by the issuer. */
    public const REVOKED = 'revoked';
    /** Given up after retries; needs a person. */
    public const PARKED = 'parked';

    /** A credential replaced by a corrected one (shown for a revoked credential that names its successor). */
    public const SUPERSEDED = 'superseded';

    /** @var string[] the names the sidecar sends (its issuance list, its event answers, set_status): no others */
    public const SIDECAR_NAMES = [self::QUEUED, self::ISSUED, self::DELIVERED, self::FAILED, self::REVOKED, self::PARKED];

    /**
     * Checks a status name from the sidecar: one contract, so an unknown name is an error, not a guess.
     *
     * @param string $name as the sidecar sent it
     * @return string one of SIDECAR_NAMES
     * @throws \InvalidArgumentException for a name we do not know, so nothing unknown is stored
     */
    public static function from_sidecar(string $name): string {
        if (in_array($name, self::SIDECAR_NAMES, true)) {
            return $name;
        }
        throw new \InvalidArgumentException('status: unknown name "' . $name . '"; expected one of '
            . implode(', ', self::SIDECAR_NAMES));
    }

    /**
     * What a stored credential shows: its own status, or "superseded" when it was revoked for a corrected one.
     *
     * @param string $status the credential's status (issued, delivered, revoked)
     * @param string|null $supersededby the credential that replaced it
     * @return string
     */
    public static function of_credential(string $status, ?string $supersededby): string {
        if ($status === self::REVOKED && $supersededby !== null && $supersededby !== '') {
            return self::SUPERSEDED;
        }
        return in_array($status, [self::ISSUED, self::DELIVERED, self::REVOKED], true) ? $status : self::ISSUED;
    }

    /**
     * Whether the teacher page should keep refreshing for this status: only while queued, since "issued"
     * can last long when a delivery channel keeps failing, and the page would never rest.
     *
     * @param string $status one of the constants
     * @return bool
     */
    public static function is_pending(string $status): bool {
        return $status === self::QUEUED;
    }

    /**
     * Whether a status reported at $newtime replaces the one recorded at $currenttime.
     *
     * Later wins; at the same second the later stage wins, so "issued" and "delivered" sent in the same
     * second end as "delivered" whatever order they arrive in. Equal pairs are not applied again.
     *
     * @param string|null $current recorded status, null if none
     * @param int $currenttime when it was recorded by the sidecar
     * @param string $new incoming status
     * @param int $newtime when the sidecar reached it
     * @return bool
     */
    public static function supersedes(?string $current, int $currenttime, string $new, int $newtime): bool {
        if ($current === null || $current === self::NOT_ISSUED) {
            return true;
        }
        if ($newtime !== $currenttime) {
            return $newtime > $currenttime;
        }
        return self::rank($new) > self::rank($current);
    }

    /**
     * Stage order within one second.
     *
     * @param string $status
     * @return int
     */
    private static function rank(string $status): int {
        $order = [self::NOT_ISSUED, self::QUEUED, self::FAILED, self::PARKED, self::ISSUED, self::DELIVERED,
            self::REVOKED];
        $pos = array_search($status, $order, true);
        return $pos === false ? -1 : $pos;
    }

    /**
     * Badge classes for the status, so templates stay logic-free. Only classes Bootstrap 4.6 (Moodle 4.x) and
     * Bootstrap 5 (Moodle 5.x) both have, so the badge draws the same without 5.x's Bootstrap 4 compatibility
     * layer: `badge-success` is Bootstrap 4 only; `bg-*` with an explicit text colour is in both.
     *
     * @param string $status
     * @return string
     */
    public static function badge_class(string $status): string {
        switch ($status) {
            case self::DELIVERED:
            case self::ISSUED:
                return 'bg-success text-white';
            case self::QUEUED:
                return 'bg-info text-white';
            case self::FAILED:
            case self::PARKED:
            case self::REVOKED:
                return 'bg-danger text-white';
            case self::SUPERSEDED:
                return 'bg-warning text-dark';
            default:
                return 'bg-secondary text-white';
        }
    }
}
