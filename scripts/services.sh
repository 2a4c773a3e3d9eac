#!/usr/bin/env bash
# The engines the cluster tests run against (docs/cluster.md): PostgreSQL on
# 127.0.0.1:5432 (trust auth for 127.0.0.1, database `test`) and Redis on
# 127.0.0.1:6379 (nothing kept on disk). This project's machines boot with
# both running; this makes a machine that does not one where the README's
# single test command still works: it starts them if they are installed but
# stopped, installs them with apt-get if they are missing, and waits until
# each answers. Quiet and quick when both are up already.
#
#   bash scripts/services.sh           # make sure both are up
#   source scripts/services.sh         # the same, and export CHAT_TEST_PG / CHAT_TEST_REDIS
#
# A developer who points CHAT_TEST_PG or CHAT_TEST_REDIS at an engine of their
# own is left alone for that engine: nothing is installed or started for it.

_services_main() {
    local sudo="" deadline
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    local manage_pg=1 manage_redis=1
    [ -z "${CHAT_TEST_PG:-}" ] || manage_pg=0
    [ -z "${CHAT_TEST_REDIS:-}" ] || manage_redis=0

    _services_pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
    _services_redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
    # Poll until the engine answers, for at most 30 s: a loaded machine takes
    # a few seconds to start PostgreSQL; a missing answer after that is an error.
    _services_wait_up() {
        local check=$1 what=$2
        deadline=$((SECONDS + 30))
        until "$check"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "scripts/services.sh: $what did not answer within 30 s" >&2
                return 1
            fi
            sleep 0.1
        done
    }

    # Fast path: both answer (the usual case on this project's machines).
    if { [ $manage_pg -eq 0 ] || { command -v pg_isready >/dev/null 2>&1 && _services_pg_up; }; } &&
        { [ $manage_redis -eq 0 ] || { command -v redis-cli >/dev/null 2>&1 && _services_redis_up; }; }; then
        _services_export
        return 0
    fi

    local need=() fresh_pg=0
    if [ $manage_pg -eq 1 ] && ! command -v pg_ctlcluster >/dev/null 2>&1; then
        need+=(postgresql)
        fresh_pg=1
    fi
    if [ $manage_redis -eq 1 ] && ! command -v redis-server >/dev/null 2>&1; then
        need+=(redis-server)
    fi
    if [ ${#need[@]} -gt 0 ]; then
        echo "scripts/services.sh: installing ${need[*]}" >&2
        $sudo apt-get update -qq || return 1
        # policy-rc.d-less containers and systemd machines alike: the packages'
        # own start attempts may or may not happen; what follows starts them.
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || return 1
    fi

    if [ $manage_pg -eq 1 ] && { [ $fresh_pg -eq 1 ] || ! _services_pg_up; }; then
        # The cluster that owns port 5432 (pg_lsclusters: version name port status ...).
        local version name
        read -r version name < <(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }') || true
        if [ -z "${version:-}" ]; then
            echo "scripts/services.sh: no PostgreSQL cluster on port 5432 (pg_lsclusters)" >&2
            return 1
        fi
        if [ $fresh_pg -eq 1 ]; then
            # Debian's pg_hba.conf asks 127.0.0.1 for a password; the tests
            # connect as postgres without one. Only a cluster we just
            # installed is changed: a developer's own stays as they set it.
            local hba="/etc/postgresql/$version/$name/pg_hba.conf"
            if ! $sudo grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
                $sudo sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba" ||
                    return 1
            fi
        fi
        if _services_pg_up; then
            [ $fresh_pg -eq 0 ] ||
                $sudo pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload || return 1
        else
            $sudo pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start || return 1
        fi
        _services_wait_up _services_pg_up "PostgreSQL on 127.0.0.1:5432" || return 1
    fi
    if [ $manage_pg -eq 1 ]; then
        if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = 'test'")" != "1" ]; then
            createdb -h 127.0.0.1 -U postgres test || return 1
        fi
    fi

    if [ $manage_redis -eq 1 ] && ! _services_redis_up; then
        $sudo mkdir -p /var/lib/redis /var/log/redis || return 1
        # Nothing on disk: Redis holds only presence and notices, which the
        # nodes rebuild (docs/cluster.md), so no RDB snapshot and no AOF.
        $sudo redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
            --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || return 1
        _services_wait_up _services_redis_up "Redis on 127.0.0.1:6379" || return 1
    fi
    _services_export
}

_services_export() {
    export CHAT_TEST_PG="${CHAT_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}"
    export CHAT_TEST_REDIS="${CHAT_TEST_REDIS:-redis://127.0.0.1:6379/0}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    _services_main
else
    _services_main || return 1
fi
