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

/**
 * Version details of block_edcissuer.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'block_edcissuer';
$plugin->version = 2026120402; // store_credential takes deliveredat.
$plugin->requires = 2023100900; // Moodle 4.3.
// 4.3 to 5.1: no Bootstrap 4-only markup (5.0 draws it only through a deprecated layer), the 5.1 public/
// layout needs nothing of the plugin (it finds config.php relative to its own folder, Moodle's public/config.php
// loads the root one), and PHP 8.1+ code that runs on 8.2-8.4.
$plugin->supported = [403, 501];
$plugin->maturity = MATURITY_BETA;
$plugin->release = '0.1.0';
