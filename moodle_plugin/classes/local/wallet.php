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
 * "Add to wallet": the sidecar's answers checked and made safe to show (plain PHP, so the Moodle-free tests run it).
 *
 * The sidecar is an OpenID4VCI issuer. Asked by Moodle for the learner's own credential, it answers the offer
 * link (openid-credential-offer://...) and its QR code as SVG, and mails the transaction code; or, for the offer
 * in the credential's own mail, it answers the code for the page. Nothing it sends is put in a page as it came:
 * the link must have the offer scheme and only URL-safe characters, and the SVG is rebuilt from the few
 * elements and attributes a QR code needs, each value checked, then shown as an <img> data URI, where no
 * script can run even if one slipped through.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class wallet {
    /** The sidecar's SD-JWT VC configuration (EU learning credential). */
    public const SD_JWT = 'learning_credential_sd_jwt';
    /** The Open Badges 3.0 configuration. */
    public const OB3 = 'open_badge_jwt_vc_json';
    /** What the learner may choose. */
    public const CONFIGURATIONS = [self::SD_JWT, self::OB3];
    /** The offer by reference, as OpenID4VCI 1.0 §4.1.3 writes it. */
    private const OFFER_LINK = '#^openid-credential-offer://\?credential_offer_uri=[A-Za-z0-9%._~-]{1,1900}$#';
    /** A QR code bigger than this is not one of the sidecar's (a 2 KB link draws about 60 KB). */
    private const MAX_SVG_BYTES = 300000;
    /** Lengths and coordinates. */
    private const NUMBER = '~^[0-9]{1,5}(\.[0-9]{1,4})?$~';
    /** Colour values. */
    private const COLOUR = '~^(#[0-9a-fA-F]{3,8}|none|black|white)$~';
    /** The SVG elements a QR code is drawn with, and the attributes each may keep with the pattern of their value. */
    private const ALLOWED = [
        'svg' => ['width' => self::NUMBER, 'height' => self::NUMBER, 'viewBox' => '~^[0-9. ]{1,40}$~',
            'class' => '~^[a-z -]{1,40}$~'],
        'g' => ['transform' => '~^(scale|translate)\([0-9., ]{1,30}\)$~'],
        'path' => ['d' => '~^[MmHhVvLlZz0-9 .,-]+$~', 'fill' => self::COLOUR,
            'stroke' => self::COLOUR, 'class' => '~^[a-z -]{1,40}$~', 'transform' => '~^(scale|translate)\([0-9., ]{1,30}\)$~'],
        'rect' => ['x' => self::NUMBER, 'y' => self::NUMBER, 'width' => self::NUMBER, 'height' => self::NUMBER,
            'fill' => self::COLOUR],
    ];

    /**
     * The offer answer of POST /api/v1/credentials/{id}/wallet-offer (channel moodle), checked.
     *
     * @param array $answer the decoded JSON answer
     * @return array link, expiresat (Unix seconds), txcodelength, qrsrc (a data: URI, '' when the SVG was refused)
     * @throws \InvalidArgumentException naming the field that is not as the sidecar sends it
     */
    public static function offer(array $answer): array {
        $link = $answer['credential_offer_uri'] ?? null;
        if (!is_string($link) || !preg_match(self::OFFER_LINK, $link)) {
            throw new \InvalidArgumentException('credential_offer_uri is not an openid-credential-offer:// link by reference');
        }
        $svg = $answer['qr_svg'] ?? '';
        return [
            'link' => $link,
            'expiresat' => self::moment($answer['expires_at'] ?? null, 'expires_at'),
            'txcodelength' => self::length($answer['tx_code_length'] ?? null),
            'qrsrc' => is_string($svg) ? (string)self::qr_data_uri($svg) : '',
        ];
    }

    /**
     * The code answer of POST /api/v1/credentials/{id}/wallet-code, checked.
     *
     * @param array $answer the decoded JSON answer
     * @return array txcode (digits), expiresat (Unix seconds)
     * @throws \InvalidArgumentException naming the field that is not as the sidecar sends it
     */
    public static function code(array $answer): array {
        $code = $answer['tx_code'] ?? null;
        if (!is_string($code) || !preg_match('~^[0-9]{4,12}$~', $code)) {
            throw new \InvalidArgumentException('tx_code is not a code of 4 to 12 digits');
        }
        return ['txcode' => $code, 'expiresat' => self::moment($answer['expires_at'] ?? null, 'expires_at')];
    }

    /**
     * The QR code as an <img> source: the SVG rebuilt from the allowed elements and attributes only.
     *
     * @param string $svg the sidecar's inline SVG
     * @return string|null data:image/svg+xml;base64,... or null when it is not a plain QR code drawing
     */
    public static function qr_data_uri(string $svg): ?string {
        if ($svg === '' || strlen($svg) > self::MAX_SVG_BYTES || stripos($svg, '<!DOCTYPE') !== false
                || stripos($svg, '<!ENTITY') !== false) {
            return null;
        }
        $previous = libxml_use_internal_errors(true);
        $doc = new \DOMDocument();
        $loaded = $doc->loadXML($svg, LIBXML_NONET | LIBXML_NOBLANKS);
        libxml_clear_errors();
        libxml_use_internal_errors($previous);
        if (!$loaded || !$doc->documentElement || $doc->documentElement->localName !== 'svg') {
            return null;
        }
        $out = new \DOMDocument('1.0', 'UTF-8');
        $root = self::copy($doc->documentElement, $out);
        if ($root === null) {
            return null;
        }
        $root->setAttribute('xmlns', 'http://www.w3.org/2000/svg');
        $out->appendChild($root);
        return 'data:image/svg+xml;base64,' . base64_encode($out->saveXML($root));
    }

    /**
     * One element and its children, rebuilt with the allowed attributes only; null if anything else is in it.
     *
     * @param \DOMElement $element
     * @param \DOMDocument $out
     * @return \DOMElement|null
     */
    private static function copy(\DOMElement $element, \DOMDocument $out): ?\DOMElement {
        $name = $element->localName;
        if (!isset(self::ALLOWED[$name]) || ($element->namespaceURI !== null
                && $element->namespaceURI !== 'http://www.w3.org/2000/svg')) {
            return null;
        }
        $copy = $out->createElement($name);
        foreach ($element->attributes as $attribute) {
            $pattern = self::ALLOWED[$name][$attribute->nodeName] ?? null;
            if ($pattern === null || !preg_match($pattern, $attribute->value)) {
                return null;
            }
            $copy->setAttribute($attribute->nodeName, $attribute->value);
        }
        foreach ($element->childNodes as $child) {
            if ($child instanceof \DOMElement) {
                $inner = self::copy($child, $out);
                if ($inner === null) {
                    return null;
                }
                $copy->appendChild($inner);
            } else if (!($child instanceof \DOMText) || trim($child->textContent) !== '') {
                return null; // No text, comments, processing instructions or CDATA in a QR code.
            }
        }
        return $copy;
    }

    /**
     * @param mixed $value ISO 8601 UTC, as the sidecar writes it
     * @param string $field
     * @return int Unix seconds
     */
    private static function moment($value, string $field): int {
        if (!is_string($value) || !preg_match('~^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$~', $value)) {
            throw new \InvalidArgumentException($field . ' is not an ISO 8601 date and time');
        }
        return (new \DateTimeImmutable($value))->getTimestamp();
    }

    /**
     * @param mixed $value
     * @return int
     */
    private static function length($value): int {
        if (!is_int($value) || $value < 4 || $value > 12) {
            throw new \InvalidArgumentException('tx_code_length is not a number of digits from 4 to 12');
        }
        return $value;
    }
}
