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

    /** @var string[] names the sidecar may send, as the web service contract lists them */
    public const SIDECAR_NAMES = [self::QUEUED, self::ISSUED, self::DELIVERED, self::FAILED, self::REVOKED, self::PARKED];

    /** @var array<string,string> other spellings a sidecar version may use for the same states */
    private const ALIASES = [
        'accepted' => self::QUEUED,
        'pending' => self::QUEUED,
        'received' => self::QUEUED,
        'sealing' => self::QUEUED,
        'sealed' => self::ISSUED,
        'sent' => self::DELIVERED,
        'error' => self::FAILED,
        'dead' => self::PARKED,
    ];

    /**
     * Maps a status name from the sidecar to ours.
     *
     * @param string $name as the sidecar sent it
     * @return string one of the constants (never NOT_ISSUED)
     * @throws \InvalidArgumentException for a name we do not know, so nothing unknown is stored
     */
    public static function from_sidecar(string $name): string {
        $key = strtolower(trim($name));
        if (in_array($key, self::SIDECAR_NAMES, true)) {
            return $key;
        }
        if (isset(self::ALIASES[$key])) {
            return self::ALIASES[$key];
        }
        throw new \InvalidArgumentException('status: unknown name "' . $name . '"; expected one of '
            . implode(', ', self::SIDECAR_NAMES));
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
     * Whether a learner has a credential they can download or verify in this status.
     *
     * @param string $status
     * @return bool
     */
    public static function has_credential(string $status): bool {
        return in_array($status, [self::ISSUED, self::DELIVERED, self::REVOKED], true);
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
     * Bootstrap/Moodle badge class for the status, so templates stay logic-free.
     *
     * @param string $status
     * @return string
     */
    public static function badge_class(string $status): string {
        switch ($status) {
            case self::DELIVERED:
            case self::ISSUED:
                return 'badge-success';
            case self::QUEUED:
                return 'badge-info';
            case self::FAILED:
            case self::PARKED:
                return 'badge-danger';
            case self::REVOKED:
                return 'badge-warning';
            default:
                return 'badge-secondary';
        }
    }
}
