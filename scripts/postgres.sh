#!/usr/bin/env bash
# A local PostgreSQL for the test suite (Debian's package), on 127.0.0.1:5432.
#
#   scripts/postgres.sh start   install if missing, start the cluster, create the test role and database,
#                               and the lab PBX's CDR database (dialplans/asterisk/cdr_pgsql.sql)
#   scripts/postgres.sh url     print the SQLAlchemy URL of the test database
#   scripts/postgres.sh stop
#
# Idempotent. The test role's password is generated once into $VOICEBOT_LAB_DIR/pg.secret.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then default_lab=/var/lib/voicebot-lab; else default_lab="$HOME/.local/share/voicebot-lab"; fi
LAB=${VOICEBOT_LAB_DIR:-$default_lab}
SECRET_FILE="$LAB/pg.secret"
DB=voicebot_test
ROLE=voicebot_test
CDR_DB=voicebot_cdr
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'postgres: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

cluster() { pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1, $2}'; }

cmd_start() {
    if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(cluster)" ]; then
        log "installing postgresql"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 postgresql >/dev/null
    fi
    read -r version name <<<"$(cluster)"
    if ! pg_lsclusters --no-header | awk -v n="$name" '$2==n {print $4}' | grep -q online; then
        as_root pg_ctlcluster "$version" "$name" start
        log "cluster $version/$name started"
    fi
    mkdir -p "$LAB"
    [ -s "$SECRET_FILE" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$SECRET_FILE")
    local secret
    secret=$(cat "$SECRET_FILE")
    for _ in $(seq 1 50); do as_postgres psql -qAtc 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
    if [ "$(as_postgres psql -qAtc "select 1 from pg_roles where rolname='$ROLE'")" != 1 ]; then
        as_postgres psql -qc "create role $ROLE login createdb password '$secret'"
    else
        as_postgres psql -qc "alter role $ROLE password '$secret'"
    fi
    for db in "$DB" "$CDR_DB"; do
        if [ "$(as_postgres psql -qAtc "select 1 from pg_database where datname='$db'")" != 1 ]; then
            as_postgres psql -qc "create database $db owner $ROLE"
        fi
    done
    # where the lab Asterisk writes its call detail records (scripts/pbx.sh reads cdr.env)
    as_postgres psql -q -v ON_ERROR_STOP=1 -d "$CDR_DB" -c "set client_min_messages = warning" -c "set role $ROLE" -f - \
        < "$here/dialplans/asterisk/cdr_pgsql.sql" >/dev/null
    (umask 077; printf 'PG_HOST=127.0.0.1\nPG_PORT=5432\nPG_DB=%s\nPG_USER=%s\nPG_PASSWORD=%s\n' \
        "$CDR_DB" "$ROLE" "$secret" > "$LAB/cdr.env")
}

cmd_url() {
    echo "postgresql+psycopg://$ROLE:$(cat "$SECRET_FILE")@127.0.0.1:5432/$DB"
}

cmd_stop() {
    read -r version name <<<"$(cluster)"
    [ -n "${version:-}" ] && as_root pg_ctlcluster "$version" "$name" stop || true
}

case "${1:-}" in
    start) cmd_start ;;
    url) cmd_url ;;
    stop) cmd_stop ;;
    *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
