#!/bin/bash
# Adapted for ukdac from the workplace's shared testcloud (../shared/testcloud): state under
# /tmp/ukdac-testcloud by default; run by `make test-cloud` and .ci/run.
# up.sh - bring up a small, real OpenStack Zed "cloud in a box" from Debian 12
# (bookworm) packages, on 127.0.0.1 only, without systemd.
#
#   keystone (uwsgi) | neutron-server (ML2, no agents; one fake OVS agent row)
#   glance-api (file store) | placement (uwsgi) | nova api/conductor/scheduler
#   + nova-compute (fake.FakeDriver) | cinder api/scheduler/volume (fake driver)
#   object storage (OSBOX_OBJECT): rgw  = Ceph Pacific mon + 1 bluestore-on-file OSD
#                                         + radosgw (Swift API + S3, keystone auth)   [default]
#                                  swift = swift proxy/account/container/object + s3api/s3token
#                                  none  = no object storage
#   infra: mariadb, rabbitmq, memcached   -- all state under $OSBOX_DIR
#
# Idempotent: re-running skips what is installed / initialised / running.
# Usage: up.sh [--test]      (--test also runs the smoke tests via openstacksdk)
# Env:   OSBOX_DIR (default /tmp/osbox), OSBOX_OBJECT=rgw|swift|none (default rgw)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=${OSBOX_DIR:-/tmp/ukdac-testcloud}
OBJECT=${OSBOX_OBJECT:-rgw}
WITH_SWIFT=0; [ "$OBJECT" = swift ] && WITH_SWIFT=1
WITH_RGW=0; [ "$OBJECT" = rgw ] && WITH_RGW=1
export CEPH_CONF="$B/etc/ceph/ceph.conf"
ADMIN_PW=secret; SVC_PW=servicepw; DB_PW=dbpass; DEMO_PW=demopw
RUN_TESTS=0; [ "${1:-}" = "--test" ] && RUN_TESTS=1
PY=/usr/bin/python3      # Debian python: the services and the seeding use it
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$B"/{etc,state,log,run,bin,lib}
chmod 755 "$B" "$B/run" "$B/log"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
T_ALL=$(now)
SUMMARY=()
mark() { local d; d=$(since "$2"); echo "[osbox] $1: ${d}s"; SUMMARY+=("$1=${d}s"); }
log() { echo "[osbox] $*"; }
wait_for() { # name timeout_s cmd...
    local name=$1 to=$2 i; shift 2
    for ((i = 0; i < to * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    log "TIMEOUT waiting for $name"; return 1
}
alive() { [ -f "$B/run/$1.pid" ] && kill -0 "$(cat "$B/run/$1.pid")" 2>/dev/null; }
# start NAME CMD...: own session/process group (pgid == recorded pid), detached
start() {
    local name=$1; shift
    if alive "$name"; then log "$name already running"; return 0; fi
    setsid "$@" >>"$B/log/$name.stdout" 2>&1 </dev/null &
    echo $! >"$B/run/$name.pid"
    echo "$name" >>"$B/run/order"
}
http_ok() { curl -s -o /dev/null --max-time 2 "$1"; }
tcp_ok() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
SQL() { mariadb --defaults-file="$B/etc/my.cnf" -uroot -N -B "$@"; }
# "reported since this up.sh started services" (rows from a previous run do not count)
svc_fresh() { [ "$(SQL "$1" -e "select count(*) from services where $2 and deleted=0 and coalesce(updated_at, created_at) >= '$T_SVC_UTC'")" -ge 1 ]; }
nova_compute_registered() { svc_fresh nova "\`binary\`='nova-compute'" && [ "$(SQL nova -e "select count(*) from compute_nodes where deleted=0")" -ge 1 ]; }
cinder_volume_registered() { svc_fresh cinder "topic='cinder-volume'"; }

############################################################################
# 1. packages
############################################################################
PKGS="mariadb-server rabbitmq-server memcached python3-pymysql uwsgi-plugin-python3 curl
 keystone neutron-server glance-api placement-api nova-api nova-conductor nova-scheduler
 cinder-api cinder-scheduler python3-venv"
[ "$WITH_SWIFT" = 1 ] && PKGS="$PKGS swift-proxy swift-account swift-container swift-object"
[ "$WITH_RGW" = 1 ] && PKGS="$PKGS ceph-mon ceph-osd radosgw ceph-common"
t=$(now)
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    # never let postinst start services (no systemd here; sysv scripts would run)
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    apt-get update -qq    # stale/absent lists would give old or no candidates
    apt-get install -y -q --no-install-recommends $PKGS >"$B/log/apt-install.log" 2>&1 \
        || { tail -30 "$B/log/apt-install.log"; exit 1; }
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    mark "apt-install" "$t"
else
    log "packages already installed"
fi

############################################################################
# 2. config files (regenerated every run; all under $B/etc)
############################################################################
KS_AUTH="www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
password = $SVC_PW"
RABBIT="rabbit://guest:guest@127.0.0.1:5672/"
dburl() { echo "mysql+pymysql://os:$DB_PW@127.0.0.1/$1"; }
mkdir -p "$B"/etc/{keystone,neutron,glance,placement,nova,cinder,swift,openstack} \
         "$B"/state/{mysql,rabbitmq,keystone,neutron,glance/images,glance/staging,glance/tasks,nova/instances,cinder,swift/srv/d1} "$B/log/rabbitmq"

cat >"$B/etc/my.cnf" <<EOF
[mysqld]
datadir = $B/state/mysql
socket = $B/run/mysqld.sock
pid-file = $B/run/mysqld.pid
log-error = $B/log/mysqld.log
bind-address = 127.0.0.1
port = 3306
user = root
skip-name-resolve
skip-log-bin
max_connections = 1000
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
[client]
socket = $B/run/mysqld.sock
EOF

cat >"$B/etc/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:5672
loopback_users = none
EOF
echo '[].' >"$B/etc/rabbitmq-enabled-plugins"

cat >"$B/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
log_dir = $B/log
log_file = keystone.log
[database]
connection = $(dburl keystone)
[identity]
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = $B/state/keystone/fernet-keys
[credential]
key_repository = $B/state/keystone/credential-keys
[cache]
# without a cache every keystone request runs ~200 SQL queries (~0.4 s)
enabled = true
backend = oslo_cache.memcache_pool
memcache_servers = 127.0.0.1:11211
EOF
uwsgi_ini() { # name port wsgi-file env
    cat <<EOF
[uwsgi]
plugins = python3
http-socket = 127.0.0.1:$2
wsgi-file = $3
master = true
processes = ${5:-1}
threads = 2
lazy-apps = true
die-on-term = true
buffer-size = 65535
enable-threads = true
add-header = Connection: close
env = $4
logto = $B/log/$1-uwsgi.log
EOF
}
uwsgi_ini keystone 5000 /usr/bin/keystone-wsgi-public "OS_KEYSTONE_CONFIG_FILES=$B/etc/keystone/keystone.conf" 2 >"$B/etc/keystone/uwsgi.ini"
uwsgi_ini placement 8778 /usr/bin/placement-api "OS_PLACEMENT_CONFIG_DIR=$B/etc/placement" >"$B/etc/placement/uwsgi.ini"

cat >"$B/etc/neutron/neutron.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
graceful_shutdown_timeout = 5
core_plugin = ml2
service_plugins = router,segments
auth_strategy = keystone
allow_overlapping_ips = true
transport_url = $RABBIT
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
dhcp_agent_notification = false
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
log_dir = $B/log
log_file = neutron-server.log
state_path = $B/state/neutron
api_paste_config = /etc/neutron/api-paste.ini
[database]
connection = $(dburl neutron)
[keystone_authtoken]
$KS_AUTH
memcached_servers = 127.0.0.1:11211
username = neutron
# Validates application credentials' access rules (as a production cloud must).
service_type = network
service_token_roles_required = true
[nova]
$KS_AUTH
username = nova
region_name = RegionOne
[oslo_concurrency]
lock_path = $B/state/neutron/lock
EOF
cat >"$B/etc/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1
[ml2_type_vlan]
network_vlan_ranges = physnet1
[ml2_type_vxlan]
vni_ranges = 1:1000
EOF

cat >"$B/etc/glance/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
graceful_shutdown_timeout = 5
workers = 1
log_dir = $B/log
log_file = glance-api.log
enabled_backends = fs:file
transport_url = $RABBIT
[database]
connection = $(dburl glance)
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $B/state/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $B/state/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $B/state/glance/tasks
[keystone_authtoken]
$KS_AUTH
memcached_servers = 127.0.0.1:11211
username = glance
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $B/state/glance/lock
[oslo_messaging_notifications]
driver = noop
EOF

cat >"$B/etc/placement/placement.conf" <<EOF
[DEFAULT]
log_dir = $B/log
log_file = placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = $(dburl placement)
[keystone_authtoken]
$KS_AUTH
memcached_servers = 127.0.0.1:11211
username = placement
EOF

cat >"$B/etc/nova/nova.conf" <<EOF
[DEFAULT]
host = osbox-compute
my_ip = 127.0.0.1
transport_url = $RABBIT
compute_driver = fake.FakeDriver
graceful_shutdown_timeout = 5
periodic_fuzzy_delay = 0
state_path = $B/state/nova
instances_path = $B/state/nova/instances
log_dir = $B/log
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
rootwrap_config = /etc/nova/rootwrap.conf
[api]
auth_strategy = keystone
[api_database]
connection = $(dburl nova_api)
[database]
connection = $(dburl nova)
[keystone_authtoken]
$KS_AUTH
memcached_servers = 127.0.0.1:11211
username = nova
# Validates application credentials' access rules (as a production cloud must).
service_type = compute
[placement]
$KS_AUTH
username = placement
region_name = RegionOne
[neutron]
$KS_AUTH
username = neutron
region_name = RegionOne
service_metadata_proxy = false
[service_user]
# needed since the CVE-2023-2088 fix: cinder refuses attachment deletes that
# do not carry a nova service token (ConflictNovaUsingAttachment)
send_service_user_token = true
$KS_AUTH
username = nova
[glance]
region_name = RegionOne
[cinder]
os_region_name = RegionOne
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 10
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[vnc]
enabled = false
[oslo_concurrency]
lock_path = $B/state/nova/lock
[oslo_messaging_notifications]
driver = noop
EOF

cat >"$B/etc/cinder/cinder.conf" <<EOF
[DEFAULT]
host = osbox-volume
graceful_shutdown_timeout = 5
# capabilities are published / scheduler start-up delay: 10 s instead of 60 s,
# and no random 0-60 s delay before the first publish (else volume create may
# hit "No valid backend" for up to a minute after start)
periodic_interval = 10
periodic_fuzzy_delay = 0
my_ip = 127.0.0.1
transport_url = $RABBIT
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
enabled_backends = fake
state_path = $B/state/cinder
log_dir = $B/log
api_paste_config = /etc/cinder/api-paste.ini
rootwrap_config = /etc/cinder/rootwrap.conf
[database]
connection = $(dburl cinder)
[keystone_authtoken]
$KS_AUTH
memcached_servers = 127.0.0.1:11211
username = cinder
# Validates application credentials' access rules (as a production cloud must).
service_type = volumev3
service_token_roles_required = true
[oslo_concurrency]
lock_path = $B/state/cinder/lock
[oslo_messaging_notifications]
driver = noop
[fake]
# FakeLoggingVolumeDriver ships in python3-cinder (cinder/tests/fake_driver.py):
# fake LVM, reports 5 GB free, create/delete/snapshot/attach are no-ops
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
EOF

# launchers for binaries whose Debian packages we do not install
# (nova-compute/cinder-volume pull qemu, libvirt deps, lvm2, tgt ...)
printf '#!/usr/bin/python3\nimport sys\nfrom nova.cmd.compute import main\nsys.exit(main())\n' >"$B/bin/nova-compute"
printf '#!/usr/bin/python3\nimport sys\nfrom cinder.cmd.volume import main\nsys.exit(main())\n' >"$B/bin/cinder-volume"
chmod +x "$B/bin/nova-compute" "$B/bin/cinder-volume"

if [ "$WITH_SWIFT" = 1 ]; then
    for t in account:6202 container:6201 object:6200; do
        n=${t%%:*}; p=${t##*:}
        cat >"$B/etc/swift/$n-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $p
devices = $B/state/swift/srv
mount_check = false
swift_dir = $B/etc/swift
workers = 0
log_name = swift-$n
[pipeline:main]
pipeline = healthcheck $n-server
[app:$n-server]
use = egg:swift#$n
[filter:healthcheck]
use = egg:swift#healthcheck
EOF
    done
    cat >"$B/etc/swift/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 8080
swift_dir = $B/etc/swift
workers = 0
log_name = swift-proxy
[pipeline:main]
# authtoken must come BEFORE s3api/s3token, otherwise it strips the identity
# headers that s3token sets and S3 requests fail with SignatureDoesNotMatch
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit authtoken s3api s3token keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:s3token]
use = egg:swift#s3token
reseller_prefix = AUTH_
delay_auth_decision = False
auth_uri = http://127.0.0.1:5000/v3
http_timeout = 10.0
auth_type = password
auth_url = http://127.0.0.1:5000
username = swift
password = $SVC_PW
project_name = service
project_domain_name = Default
user_domain_name = Default
secret_cache_duration = 60
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
$KS_AUTH
username = swift
delay_auth_decision = True
service_token_roles_required = true
memcached_servers = 127.0.0.1:11211
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = ResellerAdmin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:11211
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
EOF
    for f in catch_errors gatekeeper healthcheck proxy-logging:proxy_logging listing_formats bulk tempurl \
             ratelimit copy container-quotas:container_quotas account-quotas:account_quotas slo dlo symlink; do
        printf '[filter:%s]\nuse = egg:swift#%s\n' "${f%%:*}" "${f##*:}" >>"$B/etc/swift/proxy-server.conf"
    done
    for t in account:6202 container:6201 object:6200; do
        n=${t%%:*}; p=${t##*:}
        if [ ! -f "$B/etc/swift/$n.ring.gz" ]; then
            (cd "$B/etc/swift" && swift-ring-builder $n.builder create 6 1 1 >/dev/null &&
             swift-ring-builder $n.builder add r1z1-127.0.0.1:$p/d1 100 >/dev/null &&
             swift-ring-builder $n.builder rebalance >/dev/null) || true
        fi
    done
fi

if [ "$WITH_RGW" = 1 ]; then
    CB=$B/state/ceph
    mkdir -p "$B/etc/ceph" "$CB"/{mon/ceph-a,osd/ceph-0,run,rgw}
    [ -s "$CB/fsid" ] || $PY -c 'import uuid; print(uuid.uuid4())' >"$CB/fsid"
    cat >"$CEPH_CONF" <<EOF
[global]
fsid = $(cat "$CB/fsid")
mon_host = 127.0.0.1:6789
mon_initial_members = a
public_network = 127.0.0.0/8
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_bind_msgr2 = false
ms_bind_ipv6 = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
run_dir = $CB/run
admin_socket = $CB/run/\$cluster-\$name.asok
log_file = $B/log/ceph-\$name.log
[mon.a]
mon_data = $CB/mon/ceph-a
[osd]
osd_data = $CB/osd/ceph-\$id
osd_objectstore = bluestore
# bluestore on a sparse 10 GiB file inside osd_data (no block device needed)
bluestore_block_size = 10737418240
bluestore_block_create = true
osd_memory_target = 1073741824
[client.rgw.osbox]
rgw_frontends = beast endpoint=127.0.0.1:7480
rgw_data = $CB/rgw
rgw_keystone_url = http://127.0.0.1:5000
rgw_keystone_api_version = 3
rgw_keystone_admin_user = swift
rgw_keystone_admin_password = $SVC_PW
rgw_keystone_admin_project = service
rgw_keystone_admin_domain = Default
rgw_keystone_accepted_roles = member, admin
rgw_keystone_implicit_tenants = true
rgw_swift_account_in_url = true
rgw_s3_auth_use_keystone = true
EOF
fi

cat >"$B/etc/openstack/clouds.yaml" <<EOF
clouds:
  osbox-admin:
    auth: {auth_url: 'http://127.0.0.1:5000/v3', username: admin, password: '$ADMIN_PW', project_name: admin, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
    identity_api_version: 3
  osbox-demo:
    auth: {auth_url: 'http://127.0.0.1:5000/v3', username: demo, password: '$DEMO_PW', project_name: demo, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
    identity_api_version: 3
EOF
export OS_CLIENT_CONFIG_FILE="$B/etc/openstack/clouds.yaml"

############################################################################
# 3. infrastructure: mariadb, epmd+rabbitmq, memcached
############################################################################
t=$(now)
if [ ! -d "$B/state/mysql/mysql" ]; then
    mariadb-install-db --defaults-file="$B/etc/my.cnf" --skip-test-db >"$B/log/mariadb-install.log" 2>&1
fi
start mariadb mariadbd --defaults-file="$B/etc/my.cnf"
start epmd epmd -address 127.0.0.1
start memcached memcached -u root -l 127.0.0.1 -p 11211 -U 0 -m 64
start rabbitmq env HOME="$B/state/rabbitmq" RABBITMQ_NODENAME=rabbit@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 \
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE="$B/state/rabbitmq/mnesia" \
    RABBITMQ_LOG_BASE="$B/log/rabbitmq" RABBITMQ_PID_FILE="$B/run/rabbitmq-beam.pid" \
    RABBITMQ_CONFIG_FILE="$B/etc/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$B/etc/rabbitmq-enabled-plugins" \
    RABBITMQ_SERVER_ERL_ARGS="+S 2:2 +sbwt none -kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
wait_for mariadb 60 SQL -e 'select 1'
mark "mariadb-ready" "$t"
ceph_up() {   # runs in the background, overlapping the db migrations
    local t tries=0 i
    t=$(now)
    if [ ! -e "$CB/mon/ceph-a/store.db" ]; then
        monmaptool --create --clobber --add a 127.0.0.1:6789 --fsid "$(cat "$CB/fsid")" "$CB/monmap" >/dev/null
        ceph-mon --mkfs -i a --monmap "$CB/monmap"
    fi
    start ceph-mon ceph-mon -i a -f
    wait_for ceph-mon 60 timeout 10 ceph --connect-timeout 5 -s || return 1
    if [ ! -e "$CB/osd/ceph-0/whoami" ]; then
        ou=$($PY -c 'import uuid; print(uuid.uuid4())')
        # A new mon answers `ceph -s` a moment before it takes commands (seen on a first
        # boot: "Error EPERM: problem getting command descriptions from mon"); `osd new` with
        # one uuid is idempotent, so it is retried.
        wait_for "ceph osd new" 30 ceph osd new "$ou" || return 1
        ceph-osd -i 0 --mkfs --osd-uuid "$ou" >"$B/log/ceph-osd-mkfs.log" 2>&1
    fi
    # with auth=none the OSD occasionally sends its first mon command before it has
    # the monmap ("handle_command on fsid 0000... != <fsid>" -> 'wrong fsid', osd
    # exits; ~1 boot in 8 here): restart it, the race does not repeat in practice
    while :; do
        start ceph-osd ceph-osd -i 0 -f
        for ((i = 0; i < 160; i++)); do
            ceph osd stat 2>/dev/null | grep -q ' 1 up' && break 2
            alive ceph-osd || break
            sleep 0.25
        done
        tries=$((tries + 1))
        [ $tries -ge 5 ] && { log "ceph-osd did not come up, see $B/log/ceph-osd.0.log"; return 1; }
        log "ceph-osd exited/hung during boot (try $tries), restarting"
        alive ceph-osd && kill -TERM -- "-$(cat "$B/run/ceph-osd.pid")"; sleep 1
    done
    start radosgw radosgw -n client.rgw.osbox -f      # creates its pools on first start
    log "ceph mon+osd up, radosgw started: $(since "$t")s"
}
if [ "$WITH_RGW" = 1 ]; then
    ceph_up >"$B/log/ceph-up.log" 2>&1 &
    CEPH_JOB=$!
fi
SQL -e "CREATE USER IF NOT EXISTS 'os'@'127.0.0.1' IDENTIFIED BY '$DB_PW'; GRANT ALL PRIVILEGES ON *.* TO 'os'@'127.0.0.1';"
for d in keystone glance neutron nova_api nova nova_cell0 placement cinder; do
    SQL -e "CREATE DATABASE IF NOT EXISTS $d"
done

############################################################################
# 4. schema migrations (in parallel)
############################################################################
K="keystone-manage --config-file $B/etc/keystone/keystone.conf"
NM="nova-manage --config-file $B/etc/nova/nova.conf"
if [ -f "$B/state/.migrated" ]; then
    log "databases already migrated (delete $B/state/.migrated to force)"
else
t=$(now)
declare -A JOB
( $K db_sync
  [ -d "$B/state/keystone/fernet-keys" ] || $K fernet_setup --keystone-user root --keystone-group root
  [ -d "$B/state/keystone/credential-keys" ] || $K credential_setup --keystone-user root --keystone-group root
  $K bootstrap --bootstrap-password "$ADMIN_PW" --bootstrap-username admin \
     --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
     --bootstrap-region-id RegionOne --bootstrap-admin-url http://127.0.0.1:5000/v3 \
     --bootstrap-public-url http://127.0.0.1:5000/v3 --bootstrap-internal-url http://127.0.0.1:5000/v3
) >"$B/log/db-keystone.log" 2>&1 & JOB[keystone]=$!
neutron-db-manage --config-file "$B/etc/neutron/neutron.conf" --config-file "$B/etc/neutron/ml2_conf.ini" \
    upgrade heads >"$B/log/db-neutron.log" 2>&1 & JOB[neutron]=$!
glance-manage --config-file "$B/etc/glance/glance-api.conf" db_sync >"$B/log/db-glance.log" 2>&1 & JOB[glance]=$!
placement-manage --config-dir "$B/etc/placement" db sync >"$B/log/db-placement.log" 2>&1 & JOB[placement]=$!
( $NM api_db sync
  $NM cell_v2 map_cell0 --database_connection "$(dburl nova_cell0)"
  $NM cell_v2 list_cells 2>/dev/null | grep -q ' cell1 ' || $NM cell_v2 create_cell --name cell1
  $NM db sync
) >"$B/log/db-nova.log" 2>&1 & JOB[nova]=$!
cinder-manage --config-file "$B/etc/cinder/cinder.conf" db sync >"$B/log/db-cinder.log" 2>&1 & JOB[cinder]=$!
fail=0
for s in "${!JOB[@]}"; do
    wait "${JOB[$s]}" || { log "db sync for $s FAILED, see $B/log/db-$s.log"; fail=1; }
done
[ $fail = 0 ] || exit 1
mark "db-migrations(parallel)" "$t"
touch "$B/state/.migrated"
fi

# neutron: a permanently 'alive' Open vSwitch agent row for host osbox-compute, so the
# stock openvswitch mechanism driver can bind ports (vif_type=ovs) without any agent
SQL neutron -e "INSERT IGNORE INTO agents (id, agent_type, \`binary\`, topic, host, admin_state_up,
  created_at, started_at, heartbeat_timestamp, configurations, \`load\`, availability_zone)
  VALUES ('0b0b0b0b-0000-4000-8000-00000000a9e7', 'Open vSwitch agent', 'neutron-openvswitch-agent',
  'N/A', 'osbox-compute', 1, NOW(), NOW(), '2099-12-31 00:00:00',
  '{\"bridge_mappings\": {\"physnet1\": \"br-ex\"}, \"tunnel_types\": [\"vxlan\"], \"tunneling_ip\": \"127.0.0.1\", \"datapath_type\": \"system\", \"ovs_hybrid_plug\": false, \"integration_bridge\": \"br-int\"}',
  0, 'nova')"

############################################################################
# 5. services
############################################################################
t=$(now)
T_SVC_UTC=$(date -u '+%F %T')
# keystone first, alone (CPU), then register service users: nova-conductor and
# nova-scheduler authenticate to placement at start-up and die if their user is missing
start keystone uwsgi --ini "$B/etc/keystone/uwsgi.ini"
wait_for keystone 60 http_ok http://127.0.0.1:5000/v3
mark "keystone-answering" "$t"

# service users/endpoints + demo project/user (idempotent)
cat >"$B/lib/register.py" <<'EOF'
import os, openstack
c = openstack.connect(cloud='osbox-admin'); I = c.identity
admin = I.find_role('admin')
for rn in ('service', 'ResellerAdmin', 'member', 'reader'):
    I.find_role(rn) or I.create_role(name=rn)
svcproj = I.find_project('service', domain_id='default') or I.create_project(name='service', domain_id='default')
S = [('neutron', 'network', 'http://127.0.0.1:9696'),
     ('glance', 'image', 'http://127.0.0.1:9292'),
     ('placement', 'placement', 'http://127.0.0.1:8778'),
     ('nova', 'compute', 'http://127.0.0.1:8774/v2.1'),
     ('cinderv3', 'volumev3', 'http://127.0.0.1:8776/v3/%(project_id)s'),
     ('cinder', 'block-storage', 'http://127.0.0.1:8776/v3/%(project_id)s')]
if os.environ.get('OBJECT_URL'):
    S.append(('swift', 'object-store', os.environ['OBJECT_URL']))
for name, stype, url in S:
    uname = 'cinder' if name == 'cinderv3' else name
    u = I.find_user(uname, domain_id='default') or I.create_user(
        name=uname, password=os.environ['SVC_PW'], domain_id='default', default_project_id=svcproj.id)
    for r in (admin, I.find_role('service')):
        I.assign_project_role_to_user(svcproj, u, r)
    svc = next((s for s in I.services() if s.name == name), None) or I.create_service(name=name, type=stype)
    have = {}
    for e in I.endpoints(service_id=svc.id):
        if e.url != url:                       # e.g. object store switched swift <-> rgw
            I.delete_endpoint(e)
        else:
            have[e.interface] = e
    for iface in ('public', 'internal', 'admin'):
        if iface not in have:
            I.create_endpoint(service_id=svc.id, interface=iface, url=url, region_id='RegionOne')
demo = I.find_project('demo', domain_id='default') or I.create_project(name='demo', domain_id='default')
du = I.find_user('demo', domain_id='default') or I.create_user(
    name='demo', password=os.environ['DEMO_PW'], domain_id='default', default_project_id=demo.id)
for rn in ('member', 'reader'):
    I.assign_project_role_to_user(demo, du, I.find_role(rn))
print('keystone: services, endpoints, demo project/user registered')
EOF
t=$(now)
OBJECT_URL=""
[ "$WITH_SWIFT" = 1 ] && OBJECT_URL='http://127.0.0.1:8080/v1/AUTH_%(project_id)s'
[ "$WITH_RGW" = 1 ] && OBJECT_URL='http://127.0.0.1:7480/swift/v1/AUTH_%(project_id)s'
OBJECT_URL=$OBJECT_URL SVC_PW=$SVC_PW DEMO_PW=$DEMO_PW $PY "$B/lib/register.py"
mark "keystone-register" "$t"

t=$(now)
start placement uwsgi --ini "$B/etc/placement/uwsgi.ini"
start neutron-server neutron-server --config-file "$B/etc/neutron/neutron.conf" --config-file "$B/etc/neutron/ml2_conf.ini"
start glance-api glance-api --config-file "$B/etc/glance/glance-api.conf"
wait_for rabbitmq 90 tcp_ok 5672
for s in nova-api nova-conductor nova-scheduler; do
    start $s /usr/bin/$s --config-file "$B/etc/nova/nova.conf" --log-file "$B/log/$s.log"
done
for s in cinder-api cinder-scheduler; do
    start $s /usr/bin/$s --config-file "$B/etc/cinder/cinder.conf" --log-file "$B/log/$s.log"
done
start cinder-volume "$B/bin/cinder-volume" --config-file "$B/etc/cinder/cinder.conf" --log-file "$B/log/cinder-volume.log"
if [ "$WITH_SWIFT" = 1 ]; then
    for n in account container object proxy; do
        start swift-$n swift-$n-server "$B/etc/swift/$n-server.conf" -v
    done
fi
wait_for placement 60 http_ok http://127.0.0.1:8778/
start nova-compute "$B/bin/nova-compute" --config-file "$B/etc/nova/nova.conf" --log-file "$B/log/nova-compute.log"
wait_for neutron 90 http_ok http://127.0.0.1:9696/
wait_for glance 90 http_ok http://127.0.0.1:9292/
wait_for nova-api 90 http_ok http://127.0.0.1:8774/
wait_for cinder-api 90 http_ok http://127.0.0.1:8776/
[ "$WITH_SWIFT" = 1 ] && wait_for swift 60 http_ok http://127.0.0.1:8080/healthcheck
if [ "$WITH_RGW" = 1 ]; then
    wait "$CEPH_JOB" || { cat "$B/log/ceph-up.log"; log "ceph bring-up FAILED"; exit 1; }
    cat "$B/log/ceph-up.log"
    wait_for radosgw 120 http_ok http://127.0.0.1:7480/
fi
wait_for nova-compute-registered 120 nova_compute_registered
$NM cell_v2 discover_hosts >"$B/log/discover_hosts.log" 2>&1
wait_for cinder-volume-up 90 cinder_volume_registered
mark "all-apis-answering" "$t"

# seed: flavors, a tiny public image, external network (idempotent)
cat >"$B/lib/seed.py" <<'EOF'
import io, openstack
c = openstack.connect(cloud='osbox-admin')
for name, ram, vcpus, disk in (('m1.tiny', 512, 1, 1), ('m1.small', 2048, 1, 20)):
    c.compute.find_flavor(name) or c.compute.create_flavor(name=name, ram=ram, vcpus=vcpus, disk=disk)
if not c.image.find_image('cirros-fake'):
    c.image.create_image(name='cirros-fake', data=io.BytesIO(b'\0' * 65536), disk_format='qcow2',
                         container_format='bare', visibility='public', wait=True)
if not c.network.find_network('public'):
    n = c.network.create_network(name='public', is_router_external=True, provider_network_type='flat',
                                 provider_physical_network='physnet1')
    c.network.create_subnet(network_id=n.id, name='public-subnet', ip_version=4, cidr='203.0.113.0/24',
                            gateway_ip='203.0.113.1', is_dhcp_enabled=False,
                            allocation_pools=[{'start': '203.0.113.100', 'end': '203.0.113.250'}])
print('seed: flavors m1.tiny/m1.small, image cirros-fake, external network public')
# readiness: compute service up + resource provider in placement, cinder pools known to scheduler
import time
t0 = time.time()
while True:
    nc = [s for s in c.compute.services() if s.binary == 'nova-compute' and s.state == 'up']
    rps = c.session.get('/resource_providers', endpoint_filter={'service_type': 'placement'}).json()['resource_providers']
    pools = c.block_storage.get('/scheduler-stats/get_pools').json()['pools']
    if nc and rps and pools:
        break
    if time.time() - t0 > 150:
        raise SystemExit('not ready: nova-compute up=%d resource providers=%d cinder pools=%d' % (len(nc), len(rps), len(pools)))
    time.sleep(1)
print('ready: nova-compute up, %d resource provider(s), cinder pools %s (waited %.1fs)' % (len(rps), [p['name'] for p in pools], time.time() - t0))
EOF
t=$(now)
$PY "$B/lib/seed.py"
mark "seed+readiness" "$t"

mark "TOTAL up.sh" "$T_ALL"
pids=$(sort -u "$B/run/order" | while read -r n; do [ -f "$B/run/$n.pid" ] && cat "$B/run/$n.pid"; done | paste -sd,)
ps -e -o pid=,ppid=,rss= | awk -v roots="$pids" 'BEGIN{n=split(roots,r,",");for(i=1;i<=n;i++)keep[r[i]]=1}
  {pid[NR]=$1;pp[NR]=$2;rss[NR]=$3} END{changed=1;while(changed){changed=0;for(i=1;i<=NR;i++)if(!(pid[i] in keep)&&(pp[i] in keep)){keep[pid[i]]=1;changed=1}}
  for(i=1;i<=NR;i++)if(pid[i] in keep)s+=rss[i]; printf "[osbox] RSS (sum) of started services: %d MB\n", s/1024}'
log "clouds.yaml: $OS_CLIENT_CONFIG_FILE (clouds osbox-admin, osbox-demo)"

if [ $RUN_TESTS = 1 ]; then
    t=$(now)
    if [ ! -x "$B/venv/bin/python" ]; then
        $PY -m venv "$B/venv" && "$B/venv/bin/pip" install -q openstacksdk boto3 >"$B/log/pip.log" 2>&1
    fi
    "$B/venv/bin/python" "$HERE/smoke.py"
    mark "smoke-test" "$t"
fi
echo "[osbox] SUMMARY ${SUMMARY[*]}"
