-- The local stack's Moodle gets its own database and role beside the registry's.
CREATE ROLE moodle LOGIN PASSWORD 'moodle-dev-only';
CREATE DATABASE moodle OWNER moodle ENCODING 'UTF8';
