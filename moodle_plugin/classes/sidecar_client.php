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

namespace block_edcissuer;

use block_edcissuer\local\request_signer;

/**
 * The one place that talks HTTP to the sidecar: signs each request and turns answers into arrays.
 *
 * Uses Moodle's curl class so the site's proxy and outgoing-HTTP security settings apply. Those settings
 * block loopback addresses and ports other than 80/443 by default; the errors then say so.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sidecar_client {
    /** Path of the intake. */
    public const EVENTS_PATH = '/api/v1/events';

    /** @var string base URL without trailing slash, may hold a path prefix */
    private string $baseurl;
    /** @var request_signer */
    private request_signer $signer;
    /** @var int seconds before giving up on one request */
    private int $timeout;

    /**
     * @param string $baseurl sidecar base URL, e.g. https://edc.example.edu
     * @param request_signer $signer signer holding the key id and secret
     * @param int $timeout seconds
     */
    public function __construct(string $baseurl, request_signer $signer, int $timeout = 20) {
        $this->baseurl = rtrim($baseurl, '/');
        $this->signer = $signer;
        $this->timeout = $timeout;
    }

    /**
     * A client from the plugin settings.
     *
     * @return self
     * @throws \moodle_exception notconfigured when the URL, key id or secret is missing
     */
    public static function from_config(): self {
        $config = get_config('block_edcissuer');
        $url = trim((string)($config->sidecarurl ?? ''));
        if ($url === '' || trim((string)($config->keyid ?? '')) === '' || (string)($config->secret ?? '') === '') {
            throw new \moodle_exception('notconfigured', 'block_edcissuer');
        }
        return new self($url, new request_signer(trim($config->keyid), (string)$config->secret));
    }

    /**
     * This Moodle's id at the sidecar (part of event ids and of the specification path).
     *
     * @return string
     */
    public static function site_id(): string {
        global $CFG;
        $configured = trim((string)get_config('block_edcissuer', 'siteid'));
        return $configured !== '' ? $configured : 'moodle-' . substr(sha1($CFG->wwwroot), 0, 8);
    }

    /**
     * Sends one event to the intake.
     *
     * @param string $body the encoded event (event_payload::encode)
     * @return array [HTTP code, decoded JSON answer or []]
     * @throws sidecar_exception when the sidecar cannot be reached
     */
    public function post_event(string $body): array {
        return $this->request('POST', self::EVENTS_PATH, $body);
    }

    /**
     * Sends a course's credential description.
     *
     * @param string $siteid site id
     * @param int $courseid Moodle course id
     * @param array $spec the description
     * @return array [HTTP code, decoded JSON answer or []]
     * @throws sidecar_exception when the sidecar cannot be reached
     */
    public function put_specification(string $siteid, int $courseid, array $spec): array {
        $path = '/api/v1/courses/' . rawurlencode($siteid) . '/' . $courseid . '/specification';
        $body = json_encode($spec, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        return $this->request('PUT', $path, $body);
    }

    /**
     * The sidecar's issuances of a course: one entry per learner, newest state.
     *
     * @param string $siteid site id
     * @param int $courseid Moodle course id
     * @return array[] each as the sidecar sends it: 'userid', 'status', 'credential_id', 'issuance_id',
     *                 'updated_at' (ISO 8601) and 'message'
     * @throws sidecar_exception when unreachable or the answer is not {"issuances": [...]}
     */
    public function issuances(string $siteid, int $courseid): array {
        $query = http_build_query(['site' => $siteid, 'course' => $courseid], '', '&', PHP_QUERY_RFC3986);
        [$code, $answer] = $this->request('GET', '/api/v1/issuances', '', $query);
        if ($code !== 200) {
            throw new sidecar_exception('HTTP ' . $code . self::detail($answer));
        }
        if (!is_array($answer['issuances'] ?? null)) {
            throw new sidecar_exception('unexpected answer to GET /api/v1/issuances: no "issuances" list');
        }
        $result = [];
        foreach ($answer['issuances'] as $item) {
            // A learner from outside Moodle (no numeric user id) has no row here.
            if (is_array($item) && is_int($item['userid'] ?? null) && is_string($item['status'] ?? null)) {
                $result[] = $item;
            }
        }
        return $result;
    }

    /**
     * A course's description exported for Europass (QDR XML or ELM v3 JSON-LD), as the sidecar builds it.
     *
     * @param string $siteid site id
     * @param int $courseid Moodle course id
     * @param string $format qdr-xml or elm3-jsonld
     * @return array [HTTP code, decoded JSON answer or [] (the problems when refused), the body as sent]
     * @throws sidecar_exception when the sidecar cannot be reached
     */
    public function europass_export(string $siteid, int $courseid, string $format): array {
        $path = '/api/v1/courses/' . rawurlencode($siteid) . '/' . $courseid . '/europass';
        $query = http_build_query(['format' => $format], '', '&', PHP_QUERY_RFC3986);
        [$code, $response] = $this->send('GET', $path, '', $query);
        $decoded = json_decode($response, true);
        return [$code, is_array($decoded) ? $decoded : [], $response];
    }

    /**
     * Turns a credential's public page on or off for its holder (the learner's Share choice).
     *
     * @param string $credentialid
     * @param int $userid the holder's Moodle user id (the sidecar checks the credential is theirs, on this site)
     * @param bool $shared
     * @return array the sidecar's answer: credential_id, shared, public_url, changed_at
     * @throws sidecar_exception when unreachable or refused
     */
    public function set_sharing(string $credentialid, int $userid, bool $shared): array {
        $path = self::credential_path($credentialid, 'sharing');
        $body = json_encode(['site' => self::site_id(), 'learner' => $userid, 'shared' => $shared],
            JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        [$code, $answer] = $this->request('POST', $path, $body);
        if ($code !== 200 || !is_bool($answer['shared'] ?? null) || !is_string($answer['public_url'] ?? null)) {
            throw new sidecar_exception('POST ' . $path . ': HTTP ' . $code . self::detail($answer));
        }
        return $answer;
    }

    /**
     * The credential's printable PDF, as the sidecar draws it today (its verdict, revocation included).
     *
     * @param string $credentialid
     * @param int $userid the holder's Moodle user id
     * @param string $lang two-letter language of the PDF
     * @return string the PDF's bytes
     * @throws sidecar_exception when unreachable or refused
     */
    public function printable_pdf(string $credentialid, int $userid, string $lang): string {
        $path = self::credential_path($credentialid, 'pdf');
        $query = http_build_query(['site' => self::site_id(), 'learner' => $userid, 'lang' => $lang], '', '&',
            PHP_QUERY_RFC3986);
        [$code, $response] = $this->send('GET', $path, '', $query);
        if ($code !== 200 || strncmp($response, '%PDF-', 5) !== 0) {
            $answer = json_decode($response, true);
            throw new sidecar_exception('GET ' . $path . ': HTTP ' . $code . self::detail(is_array($answer) ? $answer : []));
        }
        return $response;
    }

    /**
     * "Add to wallet": an OpenID4VCI offer for the holder's credential, shown in Moodle; the sidecar mails the
     * transaction code to the learner (the other channel), so the page alone adds nothing to a wallet.
     *
     * @param string $credentialid
     * @param int $userid the holder's Moodle user id (the sidecar checks the credential is theirs, on this site)
     * @param string $configuration local\wallet::SD_JWT or local\wallet::OB3
     * @return array local\wallet::offer(): link, expiresat, txcodelength, qrsrc
     * @throws sidecar_exception when unreachable, refused, or the answer is not an offer
     */
    public function wallet_offer(string $credentialid, int $userid, string $configuration): array {
        $path = self::credential_path($credentialid, 'wallet-offer');
        $body = json_encode(['site' => self::site_id(), 'learner' => $userid, 'channel' => 'moodle',
            'configuration' => $configuration], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        [$code, $answer] = $this->request('POST', $path, $body);
        if ($code !== 201) {
            throw new sidecar_exception('POST ' . $path . ': HTTP ' . $code . self::detail($answer));
        }
        try {
            return local\wallet::offer($answer);
        } catch (\InvalidArgumentException $e) {
            throw new sidecar_exception('POST ' . $path . ': ' . $e->getMessage());
        }
    }

    /**
     * The transaction code of the wallet offer in the credential's own mail, made now for the holder's screen.
     *
     * @param string $credentialid
     * @param int $userid the holder's Moodle user id
     * @return array|null local\wallet::code(): txcode, expiresat; null when no mailed offer is waiting (404)
     * @throws sidecar_exception when unreachable, refused otherwise, or the answer is not a code
     */
    public function wallet_code(string $credentialid, int $userid): ?array {
        $path = self::credential_path($credentialid, 'wallet-code');
        $body = json_encode(['site' => self::site_id(), 'learner' => $userid],
            JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        [$code, $answer] = $this->request('POST', $path, $body);
        if ($code === 404) {
            return null;
        }
        if ($code !== 200) {
            throw new sidecar_exception('POST ' . $path . ': HTTP ' . $code . self::detail($answer));
        }
        try {
            return local\wallet::code($answer);
        } catch (\InvalidArgumentException $e) {
            throw new sidecar_exception('POST ' . $path . ': ' . $e->getMessage());
        }
    }

    /**
     * The path of one of a credential's resources. The id goes in as it is: the sidecar checks the signature
     * against the decoded path, so a percent-encoded ':' would not match; ids are URNs of safe characters.
     *
     * @param string $credentialid e.g. urn:credential:6f1c...
     * @param string $resource
     * @return string
     * @throws sidecar_exception for an id with other characters
     */
    private static function credential_path(string $credentialid, string $resource): string {
        if (!preg_match('~^[A-Za-z0-9:._-]{1,255}$~', $credentialid)) {
            throw new sidecar_exception('not a credential id the sidecar issues: ' . s($credentialid));
        }
        return '/api/v1/credentials/' . $credentialid . '/' . $resource;
    }

    /**
     * A short, secret-free description of an error answer.
     *
     * @param array $answer decoded JSON answer
     * @return string
     */
    public static function detail(array $answer): string {
        // The sidecar's error shape (bridge/api/errors.py): {"error": summary, "problems": [{"pointer", "message"}]}.
        $text = is_string($answer['error'] ?? null) ? $answer['error'] : '';
        $problems = $answer['problems'] ?? [];
        if (is_array($problems) && isset($problems[0]['message']) && is_string($problems[0]['message'])) {
            $pointer = is_string($problems[0]['pointer'] ?? null) ? $problems[0]['pointer'] : '';
            $text .= ($text === '' ? '' : ' — ') . trim($pointer . ': ' . $problems[0]['message'], ': ');
        }
        return $text === '' ? '' : ': ' . shorten_text($text, 300);
    }

    /**
     * Sends one signed request.
     *
     * @param string $method GET, POST or PUT
     * @param string $path request path (what is signed)
     * @param string $body exact body bytes
     * @param string $query query string without "?", exactly as sent; signed too (contract v2)
     * @return array [HTTP code, decoded JSON answer or []]
     * @throws sidecar_exception
     */
    private function request(string $method, string $path, string $body, string $query = ''): array {
        [$code, $response] = $this->send($method, $path, $body, $query);
        $decoded = json_decode($response, true);
        return [$code, is_array($decoded) ? $decoded : []];
    }

    /**
     * Sends one signed request and gives back the answer as it came.
     *
     * @param string $method GET, POST or PUT
     * @param string $path request path (what is signed)
     * @param string $body exact body bytes
     * @param string $query query string without "?", exactly as sent; signed too (contract v2)
     * @return array [HTTP code, the answer's body]
     * @throws sidecar_exception
     */
    private function send(string $method, string $path, string $body, string $query = ''): array {
        global $CFG;
        require_once($CFG->libdir . '/filelib.php');
        $url = $this->baseurl . $path . ($query !== '' ? '?' . $query : '');
        $curl = new \curl(['ignoresecurity' => false]);
        // The query goes into the URL as built here and into the signature, so a changed parameter
        // (say another course id) no longer matches; curl's get() adds nothing as its params are empty.
        $curl->setHeader(array_merge(['Content-Type: application/json', 'Accept: application/json'],
            $this->signer->headers($method, self::signed_path($this->baseurl, $path), $body, null, null, $query)));
        $options = ['CURLOPT_TIMEOUT' => $this->timeout, 'CURLOPT_CONNECTTIMEOUT' => 10, 'CURLOPT_RETURNTRANSFER' => 1];
        if ($method === 'GET') {
            $response = $curl->get($url, [], $options);
        } else {
            if ($method !== 'POST') {
                $options['CURLOPT_CUSTOMREQUEST'] = $method;
            }
            $response = $curl->post($url, $body, $options);
        }
        $info = $curl->get_info();
        $code = (int)($info['http_code'] ?? 0);
        if ($curl->get_errno() || $code === 0) {
            // Moodle's curl does not throw when its security helper blocks the URL: it answers with a text.
            $reason = $curl->error ?: (is_string($response) ? $response : 'no answer');
            throw new sidecar_exception($method . ' ' . $path . ': ' . shorten_text((string)$reason, 300));
        }
        return [$code, (string)$response];
    }

    /**
     * The path as the sidecar sees it: a base URL path prefix (reverse proxy) is part of it.
     *
     * @param string $baseurl
     * @param string $path
     * @return string
     */
    private static function signed_path(string $baseurl, string $path): string {
        $prefix = rtrim((string)parse_url($baseurl, PHP_URL_PATH), '/');
        return $prefix . $path;
    }
}
