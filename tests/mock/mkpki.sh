#!/usr/bin/env bash
# mkpki.sh DIR — a test CA that revokes, for the tests of the program's own
# TLS settings: ca.pem; leaves signed by it (KEY.pem, KEY.key): good and
# revoked (localhost), other (other.llf.test only), client (CN=client1, a
# client certificate); crl.pem revoking "revoked", and ca_crl.pem (the CA and
# its CRL, as a CA file).
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
[ -f ca_crl.pem ] && exit 0
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=llmfallback test PKI" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
mkdir -p db
: > db/index.txt
echo 1000 > db/serial
echo 1000 > db/crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = $PWD/db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
default_days = 2
default_crl_days = 2
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
CNF
leaf() {   # NAME SUBJECT EXTENSION...
    local n=$1 subj=$2
    shift 2
    local ext=()
    for e in "$@"; do ext+=(-addext "$e"); done
    openssl req -newkey rsa:2048 -nodes -keyout "$n.key" -out "$n.csr" -subj "$subj" \
        -addext "basicConstraints=CA:FALSE" "${ext[@]}" 2>/dev/null
    openssl ca -batch -config ca.cnf -in "$n.csr" -out "$n.pem" -notext 2>/dev/null
    rm -f "$n.csr"
}
leaf good "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth"
leaf revoked "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth"
leaf other "/CN=other.llf.test" "subjectAltName=DNS:other.llf.test" "extendedKeyUsage=serverAuth"
leaf client "/CN=client1" "extendedKeyUsage=clientAuth"
openssl ca -config ca.cnf -revoke revoked.pem 2>/dev/null
openssl ca -config ca.cnf -gencrl -out crl.pem 2>/dev/null
cat ca.pem crl.pem > ca_crl.pem
