#!/usr/bin/env bash
# A real Moodle in one command: from a local Moodle git directory and a commit (no network), a throwaway
# site outside the repository on its own PostgreSQL cluster, served by `php -S`, with block_edcissuer
# installed (Moodle's root layout or the 5.1+ `public/` one); then the plugin's end-to-end tests
# (tests/e2e, fake and real sidecar) and Moodle's own PHPUnit tests of the plugin run against it.
#
#   scripts/moodle-e2e.sh GITDIR COMMIT [options] [-- PYTEST_ARGS...]
#
#   --name NAME        site name (default: Moodle's release from version.php, e.g. 4.5.6)
#   --exclude PATH     leave PATH out of the site (repeatable): a committed config.php, non-core plugins,
#                      blobs missing from a partial mirror
#   --sites DIR        where sites live (default /work/moodle-sites; must be outside the repository)
#   --port N           the site's web server port (default 8480)
#   --pg-port N        the sites' PostgreSQL cluster port (default 55480; never the test suite's 55432)
#   --fresh            delete the site (code, data, database) and install it again
#   --no-phpunit       skip Moodle's PHPUnit tests of the plugin
#   --no-e2e           skip tests/e2e
#   --keep             leave the web server running afterwards (PostgreSQL always stays up)
#   --stop             stop this site's web server and the sites' PostgreSQL cluster, then exit
#
# Exit status: 0 only when everything that ran passed. Details: tests/e2e/README.md.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "moodle-e2e: $*" >&2; exit 1; }
say() { echo "moodle-e2e: $*"; }

[ $# -ge 1 ] && [[ "$1" == -h || "$1" == --help ]] && usage
[ $# -ge 2 ] || usage
gitdir=$1 commit=$2; shift 2
name="" sites=/work/moodle-sites port=8480 pgport=55480 fresh=0 phpunit=1 e2e=1 keep=0 stop=0
excludes=() pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --exclude) excludes+=("$2"); shift 2 ;;
    --sites) sites=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --pg-port) pgport=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --no-phpunit) phpunit=0; shift ;;
    --no-e2e) e2e=0; shift ;;
    --keep) keep=1; shift ;;
    --stop) stop=1; shift ;;
    --) shift; pytest_args=("$@"); break ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ "$pgport" != 55432 ] || die "--pg-port 55432 is the test suite's PostgreSQL; choose another"
git --git-dir="$gitdir" rev-parse --verify -q "$commit^{commit}" >/dev/null || die "$gitdir has no commit $commit"
commit=$(git --git-dir="$gitdir" rev-parse "$commit^{commit}")
sites=$(realpath -m "$sites")
case "$sites/" in "$repo"/*) die "--sites $sites is inside the repository: nothing of Moodle may be committed" ;; esac
mkdir -p "$sites"

# Moodle's release, read from the commit itself (root layout or 5.1's public/).
version_php() { git --git-dir="$gitdir" show "$commit:public/version.php" 2>/dev/null \
  || git --git-dir="$gitdir" show "$commit:version.php"; }
release=$(version_php | tr -d '\r' | sed -n "s/^\$release *= *'\([0-9.]*\).*/\1/p" | head -1)
[ -n "$release" ] || die "no \$release in version.php of $commit: is this Moodle?"
[[ "$release" =~ ^[0-9]+\.[0-9]+$ ]] && release=$release.0   # "4.3" is 4.3.0
name=${name:-$release}
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "--name: only letters, digits, '.', '_' and '-'"
site=$sites/$name
root=$site/moodle
db=moodle_$(echo "$name" | tr -c 'A-Za-z0-9\n' _)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pgdir=$sites/postgres
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_() { PGOPTIONS='-c client_min_messages=warning' as_pg "$bindir/psql" -h 127.0.0.1 -p "$pgport" -U edc "$@"; }
webpid=$site/php-server.pid

stop_web() {
  # php -S with workers forks them: the server was started in its own process group (setsid), so end the group.
  if [ -f "$webpid" ] && kill -0 "$(cat "$webpid")" 2>/dev/null; then
    kill -- "-$(cat "$webpid")" 2>/dev/null || kill "$(cat "$webpid")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$(cat "$webpid")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$webpid"
}
if [ "$stop" = 1 ]; then
  stop_web
  [ -z "$bindir" ] || as_pg "$bindir/pg_ctl" -D "$pgdir/data" stop -m fast >/dev/null 2>&1 || true
  say "stopped $name's web server and the PostgreSQL cluster on $pgport"
  exit 0
fi

# --- 1. What Moodle needs on Debian (idempotent; apt only for what is missing) ------------------
need=()
for p in php8.2-cli php8.2-pgsql php8.2-zip php8.2-gd php8.2-intl php8.2-soap php8.2-bcmath php8.2-xml \
         php8.2-mbstring php8.2-curl php8.2-opcache phpunit postgresql locales; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  say "installing ${need[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
missing_locales=()
for l in en_AU en_US lt_LT; do locale -a | grep -qi "^$l.utf-\?8$" || missing_locales+=("$l"); done
if ((${#missing_locales[@]})); then
  say "generating locales ${missing_locales[*]} (Moodle's tests need en_AU, the lt pages lt_LT)"
  [ "$(id -u)" -eq 0 ] || die "run as root once, or generate ${missing_locales[*]}.UTF-8 with locale-gen"
  for l in "${missing_locales[@]}"; do sed -i -E "s/^# ?($l\.UTF-8 UTF-8)/\1/" /etc/locale.gen; done
  locale-gen >/dev/null
fi
php=$(command -v php8.2 || command -v php)
"$php" -r 'exit(PHP_VERSION_ID >= 80100 ? 0 : 1);' || die "PHP 8.1+ needed"
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# --- 2. The sites' own PostgreSQL cluster on a loopback port -----------------------------------
mkdir -p "$pgdir"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; chmod 700 "$pgdir"; fi
[ -f "$pgdir/data/PG_VERSION" ] || as_pg "$bindir/initdb" -D "$pgdir/data" -U edc --auth=trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
if ! as_pg "$bindir/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
  as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
    -o "-h 127.0.0.1 -p $pgport -k $pgdir -c max_connections=100 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null || die "PostgreSQL did not start on $pgport: $(tail -5 "$pgdir/server.log")"
fi

# --- 3. The site: code from the commit, data, database, install -------------------------------
stamp="$commit $(printf '%s,' "${excludes[@]}")"
if [ "$fresh" = 1 ] || { [ -f "$site/installed" ] && [ "$(cat "$site/installed")" != "$stamp" ]; }; then
  say "removing the old $name site"
  stop_web
  rm -rf "$site"
  psql_ -d postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
fi
mkdir -p "$site"
if [ ! -f "$site/installed" ]; then
  rm -rf "$root" "$site/moodledata" "$site/phpunitdata"
  mkdir -p "$root" "$site/moodledata" "$site/phpunitdata"
  say "extracting $commit into $root"
  pathspec=(.)
  for x in "${excludes[@]}"; do pathspec+=(":(exclude)$x"); done
  # A partial mirror may list blobs it does not hold: git names them on stderr; --exclude leaves them out.
  git --git-dir="$gitdir" archive "$commit" -- "${pathspec[@]}" 2>"$site/archive.log" | tar -x -C "$root" \
    || die "git archive failed: $(tail -3 "$site/archive.log")"
  [ -f "$root/config.php" ] && die "$commit has a committed config.php: add --exclude config.php"
  psql_ -d postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
  psql_ -d postgres -qc "CREATE DATABASE $db ENCODING 'UTF8' TEMPLATE template0" >/dev/null
fi
code=$root; [ -f "$root/public/version.php" ] && code=$root/public   # Moodle 5.1+: the web root is public/
cli=$code/admin/cli
adminpass_file=$site/admin-password
wwwroot=http://127.0.0.1:$port
if [ ! -f "$site/installed" ]; then
  umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' | sed 's/$/Aa1!/' > "$adminpass_file"; umask 022
  say "installing Moodle $release on PostgreSQL 127.0.0.1:$pgport/$db (a few minutes)"
  "$php" -d max_input_vars=5000 "$cli/install.php" --non-interactive --agree-license --allow-unstable \
    --lang=en --wwwroot="$wwwroot" --dataroot="$site/moodledata" --dbtype=pgsql --dbhost=127.0.0.1 \
    --dbport="$pgport" --dbuser=edc --dbname="$db" --prefix=mdl_ --fullname="EDC e2e Moodle $release" \
    --shortname="edc$name" --adminuser=admin --adminpass="$(cat "$adminpass_file")" \
    --adminemail=admin@e2e.example --supportemail=admin@e2e.example > "$site/install.log" 2>&1 \
    || die "install failed: $(tail -20 "$site/install.log")"
  # Notices visible (developer debugging), no mail ever, and a PHPUnit test site beside it.
  "$php" -r '
    [$file, $phpunitdata] = [$argv[1], $argv[2]];
    $extra = "\$CFG->debug = (E_ALL);\n\$CFG->debugdisplay = 1;\n\$CFG->noemailever = true;\n"
      . "\$CFG->phpunit_prefix = \"phpu_\";\n\$CFG->phpunit_dataroot = " . var_export($phpunitdata, true) . ";\n";
    $text = file_get_contents($file);
    $at = strpos($text, "require_once(");
    file_put_contents($file, substr($text, 0, $at) . $extra . substr($text, $at));
  ' "$root/config.php" "$site/phpunitdata"
  echo "$stamp" > "$site/installed"
fi
# The port may change between runs: the wwwroot follows it.
"$php" -r '
  [$file, $www] = [$argv[1], $argv[2]];
  $text = preg_replace("~^\\\$CFG->wwwroot\s*=.*$~m", "\$CFG->wwwroot   = " . var_export($www, true) . ";", file_get_contents($file));
  file_put_contents($file, $text);
' "$root/config.php" "$wwwroot"

# --- 4. The plugin, then the web server ---------------------------------------------------------
say "installing block_edcissuer into ${code#"$site"/}/blocks/edcissuer"
EDC_E2E_MOODLE_DIR=$root "$repo/tests/e2e/install_plugin.sh" > "$site/plugin.log" 2>&1 \
  || die "plugin install failed: $(tail -20 "$site/plugin.log")"
stop_web
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is taken by another program"; fi
PHP_CLI_SERVER_WORKERS=4 setsid "$php" -d max_input_vars=5000 -d post_max_size=64M -d upload_max_filesize=64M \
  -S "127.0.0.1:$port" -t "$code" > "$site/php-server.log" 2>&1 &
echo $! > "$webpid"
for _ in $(seq 100); do
  curl -s -o /dev/null "$wwwroot/login/index.php" && break
  kill -0 "$(cat "$webpid")" 2>/dev/null || die "php -S did not start: $(tail -5 "$site/php-server.log")"
  sleep 0.2
done
[ "$keep" = 1 ] || trap stop_web EXIT
say "Moodle $release at $wwwroot (admin password in $adminpass_file)"

# --- 5. The tests -------------------------------------------------------------------------------
status=0
results=$site/results.txt
: > "$results"
if [ "$phpunit" = 1 ]; then
  say "Moodle PHPUnit: block_edcissuer (tests/*_test.php) and the core privacy compliance test"
  if EDC_E2E_MOODLE_DIR=$root "$repo/tests/e2e/moodle_phpunit.sh" > "$site/phpunit.log" 2>&1; then
    echo "phpunit: passed ($(grep -Eo 'OK \([^)]*\)' "$site/phpunit.log" | tr '\n' ' '))" | tee -a "$results"
  else
    status=1
    tail -40 "$site/phpunit.log"
    echo "phpunit: FAILED (see $site/phpunit.log)" | tee -a "$results"
  fi
fi
if [ "$e2e" = 1 ]; then
  say "tests/e2e against $wwwroot"
  py=$repo/.venv/bin/python
  [ -x "$py" ] || die "no $py: run scripts/bootstrap-debian.sh test first"
  if (cd "$repo" && EDC_E2E_MOODLE_DIR=$root EDC_E2E_ADMIN_PASSWORD=$(cat "$adminpass_file") \
      EDC_E2E_SCREENSHOTS=${EDC_E2E_SCREENSHOTS:-$site/screenshots} \
      "$py" -m pytest -q -p no:cacheprovider -rs tests/e2e "${pytest_args[@]}" 2>&1 | tee "$site/e2e.log"; \
      exit "${PIPESTATUS[0]}"); then
    echo "e2e: passed ($(grep -Eo '[0-9]+ passed[^=]*' "$site/e2e.log" | tail -1))" | tee -a "$results"
  else
    status=1
    echo "e2e: FAILED ($(grep -Eo '[0-9]+ (failed|error)[^=]*' "$site/e2e.log" | tail -1); see $site/e2e.log)" \
      | tee -a "$results"
  fi
fi
say "Moodle $release ($commit): $(tr '\n' ';' < "$results")"
exit $status
