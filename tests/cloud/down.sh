#!/bin/bash
# Adapted for ukdac from the workplace's shared testcloud: state under /tmp/ukdac-testcloud.
# down.sh - stop what up.sh started, by the PIDs it recorded in $OSBOX_DIR/run.
# Every service was started with setsid, so its recorded PID is also its process
# group id: we signal that group (the service and its own workers) and nothing else.
# OpenStack services are stopped first, then the infrastructure (db, mq, cache).
# Usage: down.sh [--purge]   (--purge also deletes state, logs and configs)
B=${OSBOX_DIR:-/tmp/ukdac-testcloud}
all=$([ -f "$B/run/order" ] && tac "$B/run/order" | awk '!seen[$0]++')
infra="ceph-osd ceph-mon memcached rabbitmq epmd mariadb"   # stopped one by one, in this order
group_alive() { kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null; }
stop_set() { # names...
    local n f pid i left
    for n in "$@"; do
        f="$B/run/$n.pid"; [ -f "$f" ] || continue; pid=$(cat "$f")
        group_alive "$pid" && { kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; }
    done
    for i in $(seq 60); do          # up to 15 s
        left=0
        for n in "$@"; do f="$B/run/$n.pid"; [ -f "$f" ] && group_alive "$(cat "$f")" && left=1; done
        [ $left = 0 ] && break; sleep 0.25
    done
    for n in "$@"; do
        f="$B/run/$n.pid"; [ -f "$f" ] || continue; pid=$(cat "$f")
        if group_alive "$pid"; then
            echo "[osbox] $n (pgid $pid) still running after 15 s, SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$f"
    done
}
svc=$(for n in $all; do case " $infra " in *" $n "*) ;; *) echo "$n";; esac; done)
stop_set $svc
for n in $infra; do echo "$all" | grep -qx "$n" && stop_set "$n"; done
rm -f "$B/run/order" "$B/run/mysqld.pid" "$B/run/rabbitmq-beam.pid" "$B/run/mysqld.sock"
echo "[osbox] stopped:" ${all:-nothing recorded in $B/run}
if [ "${1:-}" = "--purge" ]; then
    rm -rf "$B/state" "$B/log" "$B/etc" "$B/lib" "$B/bin"
    echo "[osbox] state, logs and configs under $B removed"
fi
