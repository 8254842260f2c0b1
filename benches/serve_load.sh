#!/usr/bin/env bash
# Load benchmark of `certexport serve` (a benchmark, not a test: it asserts
# nothing and prints figures).
#
#   benches/serve_load.sh [-- SERVE_STORE_ARGS...]
#
# Environment: COUNT (generated leaves in the store, default 100000),
# DURATION (seconds per run, default 10), CONNECTIONS (default 64),
# THREADS (wrk threads, default 2), RECOVER_CONNECTIONS (the Recover
# stream, default 4: more than the key-export slots, so calls always wait).
#
# What it does, all on loopback:
#   1. installs nginx and wrk (Debian packages) if missing; builds
#      `certexport` (release, feature server) and generates the PKI with the
#      benches' generator (examples/serve_load_pki.rs: root, intermediate,
#      COUNT leaves in target/bench-cache/);
#   2. makes a TLS certificate for localhost, a callers file (one caller
#      with every claim, a Bearer token and a password) and starts `certexport serve` twice (plain
#      HTTP and HTTPS) over the store — `--store` the generated PKI and
#      tests/data/pki (which holds keys), or whatever follows `--` (for
#      instance `--database URL`, over a database holding the same
#      certificates);
#   3. fetches one Download answer (the middle leaf as PEM with its chain)
#      and has nginx serve those exact bytes as a static file, plain and
#      over TLS with the same certificate, keep-alive unlimited, no log;
#   4. runs wrk (keep-alive, CONNECTIONS connections) against each: nginx
#      GET of the file, certexport POST of the Download (Bearer; over HTTPS
#      also Basic, against an argon2id hash), for DURATION seconds after a
#      2-second warm-up, and prints requests/s, p50, p99 and the ratios;
#   5. runs the HTTPS Download load again while a second wrk keeps a
#      stream of Recover calls (PEM with the key, PBES2 at 600,000
#      iterations) saturating the key-export semaphore, and prints the
#      Download p99 idle and loaded;
#   6. with DATABASE=1: starts a throw-away PostgreSQL cluster (Debian's
#      server, installed if missing; as the `postgres` user under root),
#      imports the same store with `certexport db import`, starts a third
#      server over `--database`, runs the HTTPS Download load against it
#      and prints its throughput over that of the `--store` server
#      (`COUNT=1000000 DATABASE=1 benches/serve_load.sh` for the
#      1,000,000-certificate figure of the README).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
RECOVER_CONNECTIONS=${RECOVER_CONNECTIONS:-4}
store_args=()
if [ "${1:-}" = "--" ]; then
    shift
    store_args=("$@")
fi

# --- tools -------------------------------------------------------------------
sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

DATABASE=${DATABASE:-0}
features=server
if [ "$DATABASE" = 1 ]; then
    features=server,postgres
    if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        echo "installing: postgresql"
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql
    fi
fi
cargo build --release --quiet --features "$features"
CERTEXPORT=target/release/certexport
declare -A pki
while IFS='=' read -r key value; do pki[$key]=$value; done \
    < <(cargo run --release --quiet --example serve_load_pki -- --count "$COUNT")
if [ ${#store_args[@]} -eq 0 ]; then
    store_args=(--store "${pki[chain]}" --store "${pki[leaves]}" --store tests/data/pki)
fi
recover_sha1=$(openssl x509 -in tests/data/pki/03-rsa.example.com.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')

# --- working directory, TLS, callers ----------------------------------------
work=$(mktemp -d /tmp/certexport-serve-load.XXXXXX)
chmod 755 "$work"
pids=()
as_postgres=()
pg_bin=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "$pg_bin" ]; then
        "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

(
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
        -days 30 -subj "/CN=serve_load CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
        -days 30 -extfile ext 2>/dev/null
    chmod 644 server.key
)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
token_sha256=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
password_hash=$(printf '%s\n' "$token" | "$CERTEXPORT" hash-password)
cat > "$work/callers.json" <<EOF
{ "callers": [ { "name": "bench", "token_sha256": "$token_sha256", "password": "$password_hash",
  "claims": ["/certificates/collections/read/", "/certificates/collections/private_key/read/"] } ] }
EOF
chmod 600 "$work/callers.json"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- certexport serve, plain and TLS -----------------------------------------
start_serve() { # $1: name; then extra flags. Sets serve_url.
    local name=$1
    shift
    "$CERTEXPORT" serve --listen 127.0.0.1:0 --callers "$work/callers.json" "${store_args[@]}" "$@" \
        > "$work/$name.out" 2> "$work/$name.log" &
    pids+=($!)
    local i
    for i in $(seq 1 600); do
        if grep -q 'listening on' "$work/$name.out" 2>/dev/null; then break; fi
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$work/$name.log"; exit 1; fi
        sleep 0.1
    done
    serve_url=$(sed -n 's/.*listening on //p' "$work/$name.out" | sed 's/127.0.0.1/localhost/')
}
start_serve plain
serve_http=$serve_url
start_serve tls --tls-cert "$work/server.pem" --tls-key "$work/server.key"
serve_https=$serve_url

download_body="{\"Thumbprint\": \"${pki[leaf_sha1]}\", \"IncludeChain\": true}"
recover_body="{\"Thumbprint\": \"$recover_sha1\", \"Password\": \"bench password\"}"
mkdir -p "$work/static"
curl -sSf --cacert "$work/ca.pem" -H "Authorization: Bearer $token" -H 'x-certificateformat: PEM' \
    --data "$download_body" -o "$work/static/download.json" "$serve_https/KeyfactorAPI/Certificates/Download"
chmod 644 "$work/static/download.json"

# --- nginx, the same bytes as a static file ------------------------------------
nginx_http_port=$(free_port)
nginx_https_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat > "$work/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    default_type application/json;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_http_port;
        listen 127.0.0.1:$nginx_https_port ssl;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        root $work/static;
        add_header X-CertificateFile "leaf.pem";
    }
}
EOF
"$NGINX" -p "$work/nginx" -c "$work/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$nginx_http_port/download.json" && break
    sleep 0.1
done
cmp -s <(curl -sS "http://127.0.0.1:$nginx_http_port/download.json") "$work/static/download.json" \
    || { echo "nginx does not serve the same bytes" >&2; exit 1; }

# --- wrk ------------------------------------------------------------------------
lua() { # $1: file; $2: body; $3: format header; $4: Authorization (default Bearer)
    cat > "$1" <<EOF
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Authorization"] = "${4:-Bearer $token}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-certificateformat"] = "$3"
EOF
}
lua "$work/download.lua" "$download_body" PEM
lua "$work/download-basic.lua" "$download_body" PEM "Basic $(printf 'bench:%s' "$token" | base64 -w0)"
lua "$work/recover.lua" "$recover_body" PEM

# Prints "requests/s p50_ms p99_ms" of one wrk run: $1 seconds, then wrk's arguments.
run_wrk() {
    local seconds=$1
    shift
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --latency "$@" | awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
            if (v ~ /s$/) return v * 1000; return v + 0 }
        /Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }'
}
measure() { # label, url, wrk args...
    local label=$1 url=$2
    shift 2
    run_wrk 2 "$@" "$url" > /dev/null # warm-up
    read -r rps p50 p99 < <(run_wrk "$DURATION" "$@" "$url")
    printf '%-44s %10s req/s   p50 %7s ms   p99 %7s ms\n' "$label" "$rps" "$p50" "$p99"
    result_rps[$label]=$rps
    result_p99[$label]=$p99
}
declare -A result_rps result_p99

echo
echo "=== serve_load: $(nproc) cores, $COUNT leaves, $CONNECTIONS connections, ${DURATION}s per run, wrk $THREADS threads"
echo "store: ${store_args[*]}"
echo "response: $(wc -c < "$work/static/download.json") bytes (PEM of a leaf with its chain, base64 in JSON)"
measure "nginx static file, HTTP" "http://127.0.0.1:$nginx_http_port/download.json"
measure "certexport Download, HTTP" "$serve_http/KeyfactorAPI/Certificates/Download" -s "$work/download.lua"
measure "nginx static file, HTTPS" "https://localhost:$nginx_https_port/download.json"
measure "certexport Download, HTTPS" "$serve_https/KeyfactorAPI/Certificates/Download" -s "$work/download.lua"
measure "certexport Download, HTTPS, Basic (argon2id)" "$serve_https/KeyfactorAPI/Certificates/Download" \
    -s "$work/download-basic.lua"

# The Download load again, with a Recover stream saturating the key lane.
recover_out="$work/recover.txt"
CONNECTIONS=$RECOVER_CONNECTIONS THREADS=1 run_wrk $((DURATION + 4)) -s "$work/recover.lua" \
    "$serve_https/KeyfactorAPI/Certificates/Recover" > "$recover_out" &
recover_pid=$!
sleep 2 # the key lane fills
read -r rps p50 p99 < <(run_wrk "$DURATION" -s "$work/download.lua" "$serve_https/KeyfactorAPI/Certificates/Download")
wait "$recover_pid"
read -r recover_rps recover_p50 recover_p99 < "$recover_out"
label="certexport Download, HTTPS, Recover stream"
printf '%-44s %10s req/s   p50 %7s ms   p99 %7s ms\n' "$label" "$rps" "$p50" "$p99"
printf '%-44s %10s req/s   p50 %7s ms   p99 %7s ms\n' "  (the Recover stream, $RECOVER_CONNECTIONS connections)" \
    "$recover_rps" "$recover_p50" "$recover_p99"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo
echo "throughput, certexport / nginx: HTTP $(ratio "${result_rps[certexport Download, HTTP]}" "${result_rps[nginx static file, HTTP]}")x," \
    "HTTPS $(ratio "${result_rps[certexport Download, HTTPS]}" "${result_rps[nginx static file, HTTPS]}")x (target >= 0.5x)"
echo "Download p99: HTTP ${result_p99[certexport Download, HTTP]} ms, HTTPS ${result_p99[certexport Download, HTTPS]} ms (target <= 5 ms)"
echo "Download p99 with the Recover stream / idle (HTTPS): $(ratio "$p99" "${result_p99[certexport Download, HTTPS]}")x (target <= 3x)"

# --- the same over a database -------------------------------------------------
if [ "$DATABASE" = 1 ]; then
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    mkdir -p "$work/pg"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$work/pg"
        as_postgres=(runuser -u postgres --)
    fi
    pg_port=$(free_port)
    "${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
        > "$work/pg/initdb.log" 2>&1
    # Durability off (as in the tests): the load reads, and the import is not what is measured here.
    "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 60 \
        -o "-k $work/pg -p $pg_port -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=1GB" \
        start > /dev/null
    database_url="postgresql://postgres@127.0.0.1:$pg_port/postgres"
    openssl rand -hex 32 > "$work/kek.hex"
    chmod 600 "$work/kek.hex"
    echo
    echo "importing the same store into PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') ..."
    import_start=$(date +%s)
    "$CERTEXPORT" db import --database "$database_url" --kek-file "$work/kek.hex" "${store_args[@]}"
    echo "imported in $(( $(date +%s) - import_start )) s"
    file_store_args=("${store_args[@]}")
    store_args=(--database "$database_url" --kek-file "$work/kek.hex")
    start_serve database --tls-cert "$work/server.pem" --tls-key "$work/server.key"
    serve_database=$serve_url
    store_args=("${file_store_args[@]}")
    cmp -s <(curl -sSf --cacert "$work/ca.pem" -H "Authorization: Bearer $token" -H 'x-certificateformat: PEM' \
        --data "$download_body" "$serve_database/KeyfactorAPI/Certificates/Download") "$work/static/download.json" \
        || { echo "the server over the database does not give the same answer" >&2; exit 1; }
    # The two servers measured back to back, so that both see the same machine.
    measure "certexport Download, HTTPS, --store" "$serve_https/KeyfactorAPI/Certificates/Download" \
        -s "$work/download.lua"
    measure "certexport Download, HTTPS, --database" "$serve_database/KeyfactorAPI/Certificates/Download" \
        -s "$work/download.lua"
    echo "throughput, --database / --store (HTTPS): $(ratio "${result_rps[certexport Download, HTTPS, --database]}" \
        "${result_rps[certexport Download, HTTPS, --store]}")x (target >= 0.8x)"
    echo "Download p99, --database / --store (HTTPS): $(ratio "${result_p99[certexport Download, HTTPS, --database]}" \
        "${result_p99[certexport Download, HTTPS, --store]}")x (target <= 2x)"
    echo "machine while measuring: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
fi
