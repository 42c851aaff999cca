#!/usr/bin/env bash
# A throwaway certificate authority and a server certificate signed by it,
# for giftgated's HTTPS API in the demo and the tests (never for production:
# the CA's key sits beside the certificates, unencrypted).
#
#   scripts/api-cert.sh DIR [NAME ...]
#
# NAMEs go into the server certificate's subjectAltName, an IP address as
# IP:, anything else as DNS: (default: localhost 127.0.0.1). DIR gets:
#   ca.pem      the CA's certificate: what clients verify against
#   ca.key      the CA's key
#   server.pem  the server certificate (api.tls_certificate)
#   server.key  its key (api.tls_key), mode 600
# EC P-256 keys: quick to make, and every TLS 1.2 client takes them.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
dir=$1
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(localhost 127.0.0.1)

san=""
for name in "${names[@]}"; do
  # Digits and dots, or anything with a colon: an address, not a host name.
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san+="${san:+,}IP:$name"
  else san+="${san:+,}DNS:$name"
  fi
done

mkdir -p "$dir"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 825 -subj "/CN=giftgate test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$dir/ca.pem"

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key"
openssl req -new -key "$dir/server.key" -subj "/CN=${names[0]}" -out "$work/server.csr"
cat > "$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in "$work/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -CAserial "$work/ca.srl" -sha256 -days 825 -extfile "$work/server.ext" \
  -out "$dir/server.pem" 2>/dev/null
chmod 644 "$dir/ca.pem" "$dir/server.pem"
echo "$dir/server.pem and $dir/server.key for $san; clients verify with $dir/ca.pem"
