#!/usr/bin/env bash
# services.sh makes PostgreSQL, MariaDB and a DynamoDB-compatible endpoint
# available for seqshim's tests and demo, and prints the environment to use
# them:
#
#   eval "$(scripts/services.sh)"    # start what is missing, export the env
#   scripts/services.sh stop         # stop what this script started
#
# Only `export ...` lines go to stdout; every message goes to stderr.
#
# It uses what already answers (PostgreSQL on 127.0.0.1:5432, MariaDB on
# 127.0.0.1:3306, an endpoint on 127.0.0.1:8000, or DATABASE_URL /
# MARIADB_DSN / AWS_ENDPOINT_URL_DYNAMODB already set). MariaDB missing: the
# local server (installing Debian's mariadb-server package if absent), else
# docker compose's mariadb service.
# Where a Docker engine runs, it starts the missing ones with
# `docker compose up -d --wait` (docker-compose.yml: postgres:16 and
# amazon/dynamodb-local). Otherwise it starts the local PostgreSQL cluster
# (installing Debian's postgresql package if absent) and the dynoxide
# emulator from npm, pinned, installed under .tools/ (git-ignored).
# What it started is recorded in .services/started, so `stop` stops only that.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=test
readonly DDB_HOST=127.0.0.1 DDB_PORT=8000
readonly DYNOXIDE_PKG=@dynoxide/linux-x64@1.2.1
readonly DYNOXIDE_DIR=.tools/dynoxide
readonly DYNOXIDE_BIN=$DYNOXIDE_DIR/node_modules/@dynoxide/linux-x64/dynoxide
readonly STATE=.services
readonly DEFAULT_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable"
readonly DEFAULT_ENDPOINT="http://$DDB_HOST:$DDB_PORT"
readonly MDB_HOST=127.0.0.1 MDB_PORT=3306 MDB_DB=test
# go-sql-driver/mysql's DSN form: user@tcp(host:port)/database
readonly DEFAULT_MARIADB_DSN="root@tcp($MDB_HOST:$MDB_PORT)/$MDB_DB"

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# answers HOST PORT: a TCP connection succeeds within a second.
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND every 0.2 s.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	die "$what did not come up within ${secs}s"
}

record() {
	mkdir -p "$STATE"
	grep -qxF "$1" "$STATE/started" 2>/dev/null || echo "$1" >>"$STATE/started"
}

# emit NAME VALUE: one export line on stdout, single-quoted for eval.
emit() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

docker_runs() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

as_postgres() {
	if [[ $(id -u) == 0 ]] && command -v runuser >/dev/null; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@" -h "$PG_HOST" -p "$PG_PORT" -U postgres
	fi
}

# --- PostgreSQL --------------------------------------------------------------

pg_cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n1; }

install_postgres() {
	[[ $(id -u) == 0 ]] || die "PostgreSQL is not installed; run as root or install Debian's postgresql package"
	log "installing Debian's postgresql package (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	local v
	v=$(pg_cluster_version)
	[[ -n $v ]] || die "postgresql installed but no cluster under /etc/postgresql"
	# A fresh Debian cluster asks for a password over TCP: let local TCP
	# connections in without one, as the test URL expects (development only).
	local hba=/etc/postgresql/$v/main/pg_hba.conf
	if ! grep -q '^# seqshim: trust loopback' "$hba"; then
		local tmp
		tmp=$(mktemp)
		{
			echo '# seqshim: trust loopback (added by scripts/services.sh)'
			echo 'host all all 127.0.0.1/32 trust'
			echo 'host all all ::1/128 trust'
			cat "$hba"
		} >"$tmp"
		cat "$tmp" >"$hba"
		rm -f "$tmp"
	fi
	record "postgres-installed"
}

start_local_postgres() {
	command -v pg_ctlcluster >/dev/null 2>&1 || install_postgres
	local v
	v=$(pg_cluster_version)
	[[ -n $v ]] || die "no PostgreSQL cluster under /etc/postgresql"
	log "starting PostgreSQL $v (pg_ctlcluster)"
	pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 ||
		pg_ctlcluster --skip-systemctl-redirect "$v" main reload >&2 || true
	record "postgres $v"
	wait_for "PostgreSQL" 30 pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
}

ensure_database() {
	local have
	have=$(as_postgres psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>/dev/null || true)
	if [[ $have != 1 ]]; then
		log "creating database $PG_DB"
		as_postgres createdb "$PG_DB" >&2 || die "could not create database $PG_DB"
	fi
}

# --- DynamoDB-compatible endpoint ---------------------------------------------

install_dynoxide() {
	command -v npm >/dev/null 2>&1 || die "npm is needed to install $DYNOXIDE_PKG (or run a Docker engine)"
	log "installing $DYNOXIDE_PKG into $DYNOXIDE_DIR (npm)"
	mkdir -p "$DYNOXIDE_DIR"
	npm install --prefix "$DYNOXIDE_DIR" --no-audit --no-fund --loglevel=error "$DYNOXIDE_PKG" >&2
	[[ -x $DYNOXIDE_BIN ]] || die "$DYNOXIDE_PKG did not install $DYNOXIDE_BIN"
}

start_dynoxide() {
	if [[ ! -x $DYNOXIDE_BIN ]] || ! "$DYNOXIDE_BIN" --version 2>/dev/null | grep -q '1\.2\.1'; then
		install_dynoxide
	fi
	mkdir -p "$STATE"
	log "starting dynoxide on $DDB_HOST:$DDB_PORT (log $STATE/dynoxide.log)"
	# Detached from our stdout, so that $(scripts/services.sh) returns.
	setsid "$DYNOXIDE_BIN" serve --host "$DDB_HOST" --port "$DDB_PORT" \
		</dev/null >>"$STATE/dynoxide.log" 2>&1 &
	echo $! >"$STATE/dynoxide.pid"
	record "dynoxide"
	wait_for "dynoxide" 30 "$DYNOXIDE_BIN" healthcheck --host "$DDB_HOST" --port "$DDB_PORT" --timeout 1
}

# --- MariaDB -------------------------------------------------------------------

install_mariadb() {
	[[ $(id -u) == 0 ]] || die "MariaDB is not installed; run as root or install Debian's mariadb-server package"
	log "installing Debian's mariadb-server package (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq mariadb-server >&2
	record "mariadb-installed"
}

# start_local_mariadb starts the local server and lets root in over TCP
# from 127.0.0.1 without a password, as the test DSN expects (development
# only; Debian's root@localhost authenticates by unix socket).
start_local_mariadb() {
	command -v mariadbd >/dev/null 2>&1 || install_mariadb
	log "starting MariaDB (/etc/init.d/mariadb)"
	/etc/init.d/mariadb start >&2 || service mariadb start >&2
	record "mariadb"
	wait_for "MariaDB" 30 mariadb-admin ping --silent
	mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS \`$MDB_DB\`;
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
		GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" >&2
}

# --- up / stop -----------------------------------------------------------------

up() {
	local pg_url=${DATABASE_URL:-} endpoint=${AWS_ENDPOINT_URL_DYNAMODB:-}
	local mdb_dsn=${MARIADB_DSN:-}
	local need_pg=0 need_ddb=0 need_mdb=0

	if [[ -n $pg_url ]]; then
		log "PostgreSQL: using DATABASE_URL from the environment"
	elif answers "$PG_HOST" "$PG_PORT"; then
		pg_url=$DEFAULT_DATABASE_URL
	else
		need_pg=1
	fi
	if [[ -n $endpoint ]]; then
		log "DynamoDB: using AWS_ENDPOINT_URL_DYNAMODB from the environment"
	elif answers "$DDB_HOST" "$DDB_PORT"; then
		endpoint=$DEFAULT_ENDPOINT
	else
		need_ddb=1
	fi

	if [[ -n $mdb_dsn ]]; then
		log "MariaDB: using MARIADB_DSN from the environment"
	elif answers "$MDB_HOST" "$MDB_PORT"; then
		mdb_dsn=$DEFAULT_MARIADB_DSN
	else
		need_mdb=1
	fi
	if ((need_mdb)); then
		# The local server (or Debian's package, as root), else docker compose.
		if command -v mariadbd >/dev/null 2>&1 || [[ $(id -u) == 0 ]] || ! docker_runs; then
			start_local_mariadb
		else
			log "starting mariadb with docker compose"
			docker compose up -d --wait mariadb >&2
			record "compose mariadb"
		fi
	fi
	mdb_dsn=${mdb_dsn:-$DEFAULT_MARIADB_DSN}

	if ((need_pg || need_ddb)) && docker_runs; then
		local svcs=()
		((need_pg)) && svcs+=(postgres)
		((need_ddb)) && svcs+=(dynamodb)
		log "starting ${svcs[*]} with docker compose"
		docker compose up -d --wait "${svcs[@]}" >&2
		for s in "${svcs[@]}"; do record "compose $s"; done
		need_pg=0 need_ddb=0
		wait_for "PostgreSQL" 30 pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
	fi
	if ((need_pg)); then
		start_local_postgres
	fi
	if [[ -z $pg_url ]]; then
		pg_url=$DEFAULT_DATABASE_URL
		if [[ ! -f $STATE/started ]] || ! grep -q '^compose postgres' "$STATE/started"; then
			ensure_database
		fi
	fi
	if ((need_ddb)); then
		start_dynoxide
	fi
	endpoint=${endpoint:-$DEFAULT_ENDPOINT}

	if [[ -s $STATE/started ]]; then
		log "running services started by this script: $(paste -sd, "$STATE/started"); stop them with: scripts/services.sh stop"
	fi
	log "PostgreSQL at ${pg_url%%\?*}, MariaDB at ${mdb_dsn%%\?*}, DynamoDB endpoint at $endpoint"

	emit DATABASE_URL "$pg_url"
	emit MARIADB_DSN "$mdb_dsn"
	emit AWS_ENDPOINT_URL_DYNAMODB "$endpoint"
	emit AWS_REGION "${AWS_REGION:-us-east-1}"
	if [[ $endpoint == "$DEFAULT_ENDPOINT" ]]; then
		# The local endpoint accepts any credentials; keep real ones if set.
		emit AWS_ACCESS_KEY_ID "${AWS_ACCESS_KEY_ID:-local}"
		emit AWS_SECRET_ACCESS_KEY "${AWS_SECRET_ACCESS_KEY:-local}"
	fi
}

stop() {
	if [[ ! -s $STATE/started ]]; then
		log "nothing to stop: this script started no service"
		return 0
	fi
	local line
	while read -r line; do
		case $line in
		dynoxide)
			if [[ -f $STATE/dynoxide.pid ]]; then
				local pid
				pid=$(cat "$STATE/dynoxide.pid")
				if kill "$pid" 2>/dev/null; then log "stopped dynoxide (pid $pid)"; fi
				rm -f "$STATE/dynoxide.pid"
			fi
			;;
		"postgres "*)
			log "stopping PostgreSQL ${line#postgres }"
			pg_ctlcluster --skip-systemctl-redirect "${line#postgres }" main stop >&2 || true
			;;
		"compose "*)
			log "stopping ${line#compose } (docker compose)"
			docker compose stop "${line#compose }" >&2 || true
			;;
		postgres-installed)
			log "note: the postgresql package installed by this script stays installed"
			;;
		mariadb)
			log "stopping MariaDB"
			/etc/init.d/mariadb stop >&2 || true
			;;
		mariadb-installed)
			log "note: the mariadb-server package installed by this script stays installed"
			;;
		esac
	done <"$STATE/started"
	rm -f "$STATE/started"
}

case ${1:-up} in
up) up ;;
stop) stop ;;
*) die "usage: $0 [up|stop]" ;;
esac
