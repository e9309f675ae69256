#!/usr/bin/env bash
# TLS plaintext: curl (OpenSSL), Python's ssl (OpenSSL) and gnutls-cli
# (GnuTLS) send a secret to a local openssl s_server; the uprobes see the
# plaintext as a stream of its own, named after the socket, while the socket
# itself carries only ciphertext. Real processes, real TLS, as root.
. "$(dirname "$0")/../lib.sh"
need_root "TLS uprobes" || { echo "1..$_n"; exit 0; }
for t in openssl curl gnutls-cli; do
	command -v "$t" >/dev/null || { skip "TLS: $t is not installed (scripts/install-deps.sh)"; echo "1..$_n"; exit 0; }
done
R=$TESTDATA/tls.yar
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")
SECRET=YS_TLS_SECRET_0123456789

# a key and certificate made here; a server on a free loopback port
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || { not_ok "openssl req"; echo "1..$_n"; exit 1; }
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -key "$TMP/key.pem" -cert "$TMP/cert.pem" -www -quiet \
	>/dev/null 2>&1 </dev/null &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; rm -rf "$TMP"' EXIT
for ((i = 0; i < 100; i++)); do
	curl -sk -o /dev/null "https://127.0.0.1:$PORT/" && break
	sleep 0.1
done

# the TLS stream holds the plaintext; no socket stream does
tls_checks() {
	local who=$1
	jcheck "$who: the secret is found in a TLS stream named after its socket" "$EV" \
		"any(e['rule'] == 'tls_secret' and e['stream']['path'].startswith('tls:socket:[') for e in M)"
	jcheck "$who: ... and in no other stream (the socket carries ciphertext)" "$EV" \
		"all(e['stream']['path'].startswith('tls:') for e in M)"
	jcheck "$who: the TLS stream's socket is the one the ciphertext went to" "$EV" \
		"{e['path'][4:] for e in ENDS if e['path'].startswith('tls:')} <= {e['path'] for e in EVENTS if e['type'] == 'blind'} | {e['path'] for e in ENDS if not e['path'].startswith('tls:')}"
	jcheck "$who: its stream is accounted: written == scanned + dropped + truncated" "$EV" \
		"all(e['bytes_written'] == e['bytes_scanned'] + e['bytes_dropped'] + e['bytes_truncated'] for e in ENDS) and SUMMARY['bytes_written'] == SUMMARY['kernel']['bytes_written']"
}

# curl (libcurl on OpenSSL 3)
expect_exit "curl https: runs" 0 "${YS[@]}" -- curl -sk -o /dev/null -H "X-Key: $SECRET" "https://127.0.0.1:$PORT/"
tls_checks curl

# Python's ssl module (OpenSSL 3): SSL_write_ex
expect_exit "python ssl: runs" 0 "${YS[@]}" -- /usr/bin/python3 -c "
import socket, ssl
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(('127.0.0.1', $PORT)))
s.sendall(b'GET / HTTP/1.0\r\nX-Key: $SECRET\r\n\r\n')
while s.recv(4096): pass
"
tls_checks python

# gnutls-cli (GnuTLS): gnutls_record_send
printf 'GET / HTTP/1.0\r\nX-Key: %s\r\n\r\n' "$SECRET" >"$TMP/req"
expect_exit "gnutls-cli: runs" 0 "${YS[@]}" -- sh -c "gnutls-cli --insecure -p $PORT 127.0.0.1 <'$TMP/req' >/dev/null 2>&1"
tls_checks gnutls-cli

# a session its process never frees ends when the process does (the exit
# sweep), while yarasnoop still runs
expect_exit "a TLS client that exits without SSL_free: runs" 0 "${YS[@]}" -- sh -c "/usr/bin/python3 -c \"
import os, socket, ssl
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(('127.0.0.1', $PORT)))
s.sendall(b'GET / HTTP/1.0\\r\\nX-Key: $SECRET\\r\\n\\r\\n')
os._exit(0)
\"; sleep 0.3"
jcheck "... its TLS stream ends with the process (reason exit), the secret found" "$EV" \
	"[e['reason'] for e in ENDS if e['path'].startswith('tls:')] == ['exit'] and any(e['rule'] == 'tls_secret' for e in M)"

# a secret split across two SSL_write calls is still one stream
expect_exit "split across SSL_writes: runs" 0 "${YS[@]}" -- /usr/bin/python3 -c "
import socket, ssl
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(('127.0.0.1', $PORT)))
s.sendall(b'GET / HTTP/1.0\r\nX-Key: YS_TLS_SEC')
s.sendall(b'RET_0123456789\r\n\r\n')
while s.recv(4096): pass
"
jcheck "a secret split across two SSL_write calls is found in one TLS stream" "$EV" \
	"len(M) == 1 and M[0]['stream']['path'].startswith('tls:socket:')"

# --no-tls: the plaintext is not seen (and the ciphertext does not match)
expect_exit "--no-tls: runs" 0 "${YS[@]}" --no-tls -- curl -sk -o /dev/null -H "X-Key: $SECRET" "https://127.0.0.1:$PORT/"
jcheck "--no-tls: no TLS stream, no match" "$EV" \
	"not M and not any(e['path'].startswith('tls:') for e in ENDS)"
expect_exit "--tls and --no-tls together: usage error" 2 "$YARASNOOP" --no-control --tls --no-tls -- true
check "... one line naming both" grep -q -- "--tls or --no-tls" "$TMP/err"

# -p: TLS only with --tls (its uprobes cost every process, BENCHMARKS.md)
tls_by_pid() {
	rm -f "$TMP/go" "$TMP/up"
	/usr/bin/python3 - "$PORT" "$TMP/go" "$TMP/up" <<'PY' &
import os, socket, ssl, sys, time
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
s.sendall(b"GET / HTTP/1.0\r\nX-Key: YS_TLS_SECRET_0123456789\r\n\r\n")
while s.recv(4096): pass
PY
	local cp=$!
	for ((i = 0; i < 300; i++)); do [[ -e $TMP/up ]] && break; sleep 0.1; done
	"$YARASNOOP" --control "$TMP/p.sock" -r "$R" --format json -o "$EV" "$@" -p "$cp" 2>"$TMP/err" &
	local ysp=$!
	for ((i = 0; i < 300; i++)); do
		"$YARASNOOP" stats --control "$TMP/p.sock" >/dev/null 2>&1 && break
		sleep 0.1
	done
	touch "$TMP/go"
	wait "$ysp"
}
tls_by_pid
jcheck "-p without --tls: no TLS stream" "$EV" "not M and not any(e['path'].startswith('tls:') for e in ENDS)"
tls_by_pid --tls
jcheck "-p --tls: the running client's plaintext is found" "$EV" \
	"len(M) == 1 and M[0]['stream']['path'].startswith('tls:socket:[')"

# a TLS client that is not traced is not seen
"${YS[@]}" -- sh -c "touch $TMP/ready; while [ ! -e $TMP/done ]; do sleep 0.05; done" >/dev/null 2>&1 &
ysp=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/ready ]] && break; sleep 0.1; done
curl -sk -o /dev/null -H "X-Key: $SECRET" "https://127.0.0.1:$PORT/"
touch "$TMP/done"
wait "$ysp"
jcheck "an untraced curl's plaintext is not captured" "$EV" \
	"not M and not any(e['path'].startswith('tls:') for e in ENDS)"

echo "1..$_n"
