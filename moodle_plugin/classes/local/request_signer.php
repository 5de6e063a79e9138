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
 * Signs requests to the sidecar as schemas/intake-auth.md (version v2) describes.
 *
 * v2 covers the query string too, so nobody between Moodle and the sidecar can turn a signed
 * "issuances of course 1" into "issuances of course 2". The plugin sends only v2; v1 is kept here
 * so the tests can check the old vectors and see that both sides still agree on them.
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
    /** Header naming the canonical string's version (absent means v1 to the sidecar). */
    public const HEADER_VERSION = 'X-EDC-Auth-Version';
    /** The first contract: no query string in the signature. */
    public const VERSION_V1 = 'v1';
    /** The current contract: the canonical query is signed too. */
    public const VERSION_V2 = 'v2';

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
     * The query string's canonical form (v2).
     *
     * The same parameters can be written several ways (%20 or +, %7E or ~, any order), so what is signed
     * is the decoded name/value pairs, each re-encoded per RFC 3986 (rawurlencode: all but A-Z a-z 0-9
     * - . _ ~ as upper-case %XX, space as %20), sorted by name and then value in byte order, joined with
     * "&". Decoding is done by hand, as the sidecar does it: parse_str() would rename names (dots, [])
     * and drop repeated ones. "+" decodes to a space; a part without "=" has an empty value.
     *
     * @param string $query raw query string as sent, without "?"
     * @return string
     */
    public static function canonical_query(string $query): string {
        if (strpbrk($query, "#\r\n") !== false) {
            throw new \InvalidArgumentException('query: must be the raw query string alone, without "#" or line breaks');
        }
        $pairs = [];
        foreach (explode('&', $query) as $part) {
            if ($part === '') {
                continue;
            }
            $equals = strpos($part, '=');
            $name = $equals === false ? $part : substr($part, 0, $equals);
            $value = $equals === false ? '' : substr($part, $equals + 1);
            $pairs[] = [rawurlencode(urldecode($name)), rawurlencode(urldecode($value))];
        }
        usort($pairs, static function(array $a, array $b): int {
            return strcmp($a[0], $b[0]) ?: strcmp($a[1], $b[1]);
        });
        return implode('&', array_map(static function(array $pair): string {
            return $pair[0] . '=' . $pair[1];
        }, $pairs));
    }

    /**
     * The exact string that gets signed; public so tests can compare it with the vectors.
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path without scheme, host or query
     * @param string $timestamp Unix seconds as sent in the header
     * @param string $nonce nonce as sent in the header
     * @param string $body exact body bytes
     * @param string $query raw query string as sent, without "?" ('' for none)
     * @param string $version VERSION_V2, or VERSION_V1 (which cannot carry a query)
     * @return string
     */
    public static function canonical(string $method, string $path, string $timestamp, string $nonce,
            string $body, string $query = '', string $version = self::VERSION_V2): string {
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
        if ($version === self::VERSION_V1) {
            if ($query !== '') {
                throw new \InvalidArgumentException('query: version v1 cannot sign a query string, use v2');
            }
            return implode("\n", [self::VERSION_V1, $method, $path, $timestamp, $nonce, hash('sha256', $body)]);
        }
        if ($version !== self::VERSION_V2) {
            throw new \InvalidArgumentException('version: must be v1 or v2, got "' . $version . '"');
        }
        return implode("\n", [self::VERSION_V2, $method, $path, self::canonical_query($query), $timestamp, $nonce,
            hash('sha256', $body)]);
    }

    /**
     * Lowercase hex HMAC-SHA256 of the canonical string.
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path
     * @param int $timestamp Unix seconds
     * @param string $nonce lowercase hex nonce
     * @param string $body exact body bytes
     * @param string $query raw query string as sent, without "?"
     * @param string $version VERSION_V2 (default) or VERSION_V1
     * @return string
     */
    public function signature(string $method, string $path, int $timestamp, string $nonce, string $body,
            string $query = '', string $version = self::VERSION_V2): string {
        return hash_hmac('sha256', self::canonical($method, $path, (string)$timestamp, $nonce, $body, $query, $version),
            $this->secret);
    }

    /**
     * The five headers for one v2-signed request, as "Name: value" lines (the form Moodle's curl class takes).
     *
     * A fresh nonce and the current time are used unless given (tests give them).
     *
     * @param string $method HTTP method, upper case
     * @param string $path request path
     * @param string $body exact body bytes
     * @param int|null $timestamp Unix seconds, default now
     * @param string|null $nonce lowercase hex, default 16 fresh random bytes
     * @param string $query raw query string exactly as it will be sent, without "?"
     * @return string[]
     */
    public function headers(string $method, string $path, string $body, ?int $timestamp = null,
            ?string $nonce = null, string $query = ''): array {
        $timestamp = $timestamp ?? time();
        $nonce = $nonce ?? self::new_nonce();
        return [
            self::HEADER_KEY_ID . ': ' . $this->keyid,
            self::HEADER_TIMESTAMP . ': ' . $timestamp,
            self::HEADER_NONCE . ': ' . $nonce,
            self::HEADER_SIGNATURE . ': ' . $this->signature($method, $path, $timestamp, $nonce, $body, $query),
            self::HEADER_VERSION . ': ' . self::VERSION_V2,
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
