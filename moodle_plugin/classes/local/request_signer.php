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
 * Signs requests to the sidecar as schemas/intake-auth.md (version v1) describes.
 *
 * Plain PHP on purpose: the Moodle-free PHPUnit run checks it against the same test vectors as the
 * sidecar's Python tests, so both sides cannot drift apart unnoticed.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class request_signer {
    /** Header carrying the key id. */
    public const HEADER_KEY_ID = 'X-EDC-Key-Id';
    /** Header carrying the Unix timestamp. */
    public const HEADER_TIMESTAMP = 'X-EDC-Timestamp';
    /** Header carrying the one-time nonce. */
    public const HEADER_NONCE = 'X-EDC-Nonce';
    /** Header carrying the signature. */
    public const HEADER_SIGNATURE = 'X-EDC-Signature';

    /** @var string id of the shared secret, sent in clear so the sidecar can rotate secrets. */
    private string $keyid;
    /** @var string the shared secret; never logged or returned. */
    private string $secret;

    /**
     * @param string $keyid id of the shared secret configured on both sides
     * @param string $secret the shared secret itself
     */
    public function __construct(string $keyid, string $secret) {
        if (trim($keyid) === '' || preg_match('/[\r\n]/', $keyid)) {
            throw new \InvalidArgumentException('key id: must be a non-empty single line');
        }
        if ($secret === '') {
            throw new \InvalidArgumentException('shared secret: must not be empty');
        }
        $this->keyid = $keyid;
        $this->secret = $secret;
    }

    /**
     * The exact string that gets signed; public so tests can compare it with the vectors.
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path without scheme, host or query
     * @param string $timestamp Unix seconds as sent in the header
     * @param string $nonce nonce as sent in the header
     * @param string $body exact body bytes
     * @return string
     */
    public static function canonical(string $method, string $path, string $timestamp, string $nonce,
            string $body): string {
        if ($method === '' || strtoupper($method) !== $method) {
            throw new \InvalidArgumentException('method: must be upper case, got "' . $method . '"');
        }
        if ($path === '' || $path[0] !== '/' || strpbrk($path, "?#\r\n") !== false) {
            throw new \InvalidArgumentException('path: must start with "/" and hold no query, got "' . $path . '"');
        }
        if (!preg_match('/^[0-9]+$/', $timestamp)) {
            throw new \InvalidArgumentException('timestamp: must be decimal Unix seconds');
        }
        if (!preg_match('/^[0-9a-f]{32,}$/', $nonce) || strlen($nonce) % 2 !== 0) {
            throw new \InvalidArgumentException('nonce: must be at least 16 bytes as lowercase hex');
        }
        return implode("\n", ['v1', $method, $path, $timestamp, $nonce, hash('sha256', $body)]);
    }

    /**
     * Lowercase hex HMAC-SHA256 of the canonical string.
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path
     * @param int $timestamp Unix seconds
     * @param string $nonce lowercase hex nonce
     * @param string $body exact body bytes
     * @return string
     */
    public function signature(string $method, string $path, int $timestamp, string $nonce, string $body): string {
        return hash_hmac('sha256', self::canonical($method, $path, (string)$timestamp, $nonce, $body), $this->secret);
    }

    /**
     * The four headers for one request, as "Name: value" lines (the form Moodle's curl class takes).
     *
     * A fresh nonce and the current time are used unless given (tests give them).
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path
     * @param string $body exact body bytes
     * @param int|null $timestamp Unix seconds, default now
     * @param string|null $nonce lowercase hex, default 16 fresh random bytes
     * @return string[]
     */
    public function headers(string $method, string $path, string $body, ?int $timestamp = null,
            ?string $nonce = null): array {
        $timestamp = $timestamp ?? time();
        $nonce = $nonce ?? self::new_nonce();
        return [
            self::HEADER_KEY_ID . ': ' . $this->keyid,
            self::HEADER_TIMESTAMP . ': ' . $timestamp,
            self::HEADER_NONCE . ': ' . $nonce,
            self::HEADER_SIGNATURE . ': ' . $this->signature($method, $path, $timestamp, $nonce, $body),
        ];
    }

    /**
     * 16 random bytes from the CSPRNG, lowercase hex.
     *
     * @return string
     */
    public static function new_nonce(): string {
        return bin2hex(random_bytes(16));
    }

    /**
     * Keeps the secret out of var_dump/print_r output in error reports.
     *
     * @return array
     */
    public function __debugInfo(): array {
        return ['keyid' => $this->keyid, 'secret' => '(hidden)'];
    }
}
