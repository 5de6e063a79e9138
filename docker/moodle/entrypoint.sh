#!/bin/sh
# First start: install Moodle with the CLI installer, then let it reach the sidecar (Moodle blocks
# private addresses and ports other than 80/443 for outgoing HTTP by default).
set -eu
cd /var/www/html
until pg_isready -h "$MOODLE_DB_HOST" -U "$MOODLE_DB_USER" -q; do sleep 1; done
if [ ! -f config.php ]; then
    php admin/cli/install.php --non-interactive --agree-license --lang=en \
        --wwwroot="$MOODLE_WWWROOT" --dataroot=/var/www/moodledata \
        --dbtype=pgsql --dbhost="$MOODLE_DB_HOST" --dbname="$MOODLE_DB_NAME" \
        --dbuser="$MOODLE_DB_USER" --dbpass="$MOODLE_DB_PASSWORD" \
        --fullname="EDC local stack" --shortname=edc --adminuser=admin \
        --adminpass="$MOODLE_ADMIN_PASSWORD" --adminemail=admin@example.invalid
    php admin/cli/cfg.php --name=curlsecurityblockedhosts --set=""
    php admin/cli/cfg.php --name=curlsecurityallowedport --set="$(printf '80\n443\n8080')"
    chown -R www-data:www-data /var/www/moodledata config.php
fi
# The plugin is mounted at blocks/edcissuer; upgrade installs or updates it.
php admin/cli/upgrade.php --non-interactive
exec "$@"
