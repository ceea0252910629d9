#!/usr/bin/env bash
# Makes the certificates the TLS tests need, with the openssl command, into DIR (created if needed):
#
#   ca.pem ca.key                     the test CA (what relays and clients trust)
#   server.pem server.key             a relay certificate from it, for IP 127.0.0.1, IP ::1 and DNS localhost
#   client.pem client.key             a client certificate from it (CN iptrtpproxy-test-client)
#   other-ca.pem other-ca.key         a second, unrelated CA
#   other-client.pem other-client.key a client certificate from the unrelated CA
#
# Usage: Tests/e2e/lib/make-certs.sh DIR      (Tests/IPTRTPProxyTLSTests run it too)
# Keys are P-256 (quick to make), certificates valid for 30 days. Nothing outside DIR is read or
# written: the configuration is DIR/openssl.cnf, not the system's.
set -euo pipefail

dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF
export OPENSSL_CONF="$PWD/openssl.cnf"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# ca NAME CN
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 \
    -config openssl.cnf -extensions ca -out "$1.pem"
}

# leaf NAME CN CA EXTENSIONS
leaf() {
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -config openssl.cnf -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -CAserial "$3.srl" \
    -days 30 -extfile openssl.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}

ca ca "iptrtpproxy test CA"
ca other-ca "unrelated test CA"
leaf server "iptrtpproxy-test-relay" ca server
leaf client "iptrtpproxy-test-client" ca client
leaf other-client "unrelated-test-client" other-ca client
chmod 644 ./*.pem
echo "make-certs: $(cd "$dir" && pwd)"
