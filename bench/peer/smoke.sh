#!/usr/bin/env bash
# Smoke test of the benchmark peer (oidc-provider): starts server.mjs on a free port and walks
# discovery, the one-time session setup, the SSO sign-in (authorization -> token -> userinfo)
# and token introspection with curl (cookie jar, no redirect following).
# Needs bash, curl and node; installs node_modules from package-lock.json when missing.
# Exits non-zero on the first failed check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
jar="$work/cookies"
server_pid=

cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -s "$work/server.err" ]; then
    echo "--- server stderr:" >&2
    cat "$work/server.err" >&2
  fi
  exit 1
}
step() { echo "== $*"; }

# Reads a JSON file's top-level member (strings raw, anything else as JSON; "" when absent).
json() {
  node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = o[process.argv[2]];
    process.stdout.write(v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}
# Query parameter of a URL.
param() {
  node -e 'process.stdout.write(new URL(process.argv[1], "http://x").searchParams.get(process.argv[2]) ?? "")' "$1" "$2"
}
path_of() { node -e 'process.stdout.write(new URL(process.argv[1]).pathname)' "$1"; }
header() {
  tr -d '\r' <"$1" | awk -v h="$2:" 'index(tolower($0), h) == 1 { sub(/^[^:]*: */, ""); print; exit }'
}
cookie_names() { # the names of the cookies in Set-Cookie (set) or Cookie (sent) lines
  tr -d '\r' <"$1" | awk -v h="$2" '
    index(tolower($0), h) == 1 {
      line = $0; sub(/^[^:]*: */, "", line)
      if (h == "set-cookie:") { sub(/=.*/, "", line); out = out (out ? " " : "") line }
      else { n = split(line, parts, /; */); for (i = 1; i <= n; i++) { sub(/=.*/, "", parts[i]); out = out (out ? " " : "") parts[i] } }
    }
    END { print (out ? out : "-") }'
}

# http NAME METHOD URL [curl args...]: sets $status and $location, keeps NAME.body/.headers.
# Front-channel requests (the browser's) use the cookie jar; back-channel ones (the client's:
# token, userinfo, introspection) go through bc, without cookies.
http() {
  local name=$1 method=$2 url=$3 cookies=(-b "$jar" -c "$jar")
  shift 3
  if [ "${backchannel:-0}" = 1 ]; then cookies=(); fi
  status=$(curl -sS -X "$method" "${cookies[@]}" -o "$work/$name.body" -D "$work/$name.headers" \
    -v -w '%{http_code}' "$@" "$url" 2>"$work/$name.trace") || fail "curl $method $url"
  sed -n 's/^> //p' "$work/$name.trace" >"$work/$name.request"
  location=$(header "$work/$name.headers" location)
  echo "   $method ${url#"$base"} -> $status${location:+ Location: $location}"
  echo "      cookies sent: $(cookie_names "$work/$name.request" "cookie:"); set: $(cookie_names "$work/$name.headers" "set-cookie:")"
}
bc() { backchannel=1 http "$@"; }
expect_status() { [ "$status" = "$1" ] || fail "expected HTTP $1, got $status: $(head -c 400 "$work/$2.body")"; }
absolute() { case "$1" in http://* | https://*) echo "$1" ;; /*) echo "$base$1" ;; *) fail "odd Location $1" ;; esac; }

pkce() {
  verifier=$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')
  challenge=$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' "$verifier")
}

client_id=bench-sp
client_secret=bench-sp-secret-0123456789abcdef0123
dp_id=bench-dp
dp_secret=bench-dp-secret-0123456789abcdef0123
redirect_uri=https://sp.example/callback
redirect_enc=https%3A%2F%2Fsp.example%2Fcallback

if [ ! -d "$here/node_modules/oidc-provider" ]; then
  step "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci"
fi

step "start server.mjs (PORT=0)"
exec 3< <(cd "$here" && PORT=0 exec node server.mjs 2>"$work/server.err")
server_pid=$!
IFS= read -r -t 20 line <&3 || fail "no ready line from the server"
echo "   $line"
[[ "$line" =~ ^peer\ listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "unexpected ready line: $line"
port=${BASH_REMATCH[1]}
base="http://127.0.0.1:$port"
issuer="http://localhost:$port"

step "discovery"
http discovery GET "$base/.well-known/openid-configuration"
expect_status 200 discovery
[ "$(json "$work/discovery.body" issuer)" = "$issuer" ] || fail "issuer is not $issuer"
auth_path=$(path_of "$(json "$work/discovery.body" authorization_endpoint)")
token_path=$(path_of "$(json "$work/discovery.body" token_endpoint)")
userinfo_path=$(path_of "$(json "$work/discovery.body" userinfo_endpoint)")
introspection_path=$(path_of "$(json "$work/discovery.body" introspection_endpoint)")
jwks_path=$(path_of "$(json "$work/discovery.body" jwks_uri)")
echo "   issuer $issuer; authorization $auth_path, token $token_path, userinfo $userinfo_path, introspection $introspection_path, jwks $jwks_path"
case "$(json "$work/discovery.body" id_token_signing_alg_values_supported)" in
  *'"ES256"'*) ;;
  *) fail "ES256 not among the ID token algorithms" ;;
esac

authorize_url() { # state nonce challenge
  echo "$base$auth_path?client_id=$client_id&response_type=code&scope=openid%20profile&redirect_uri=$redirect_enc&state=$1&nonce=$2&code_challenge=$3&code_challenge_method=S256"
}
check_callback() { # location state -> sets $code
  case "$1" in
    "$redirect_uri?"*) ;;
    *) fail "expected a redirect to $redirect_uri, got: $1" ;;
  esac
  [ "$(param "$1" state)" = "$2" ] || fail "state mismatch in $1"
  [ "$(param "$1" iss)" = "$issuer" ] || fail "iss mismatch in $1"
  code=$(param "$1" code)
  [ -n "$code" ] || fail "no code in $1"
}

step "session setup: authorization request without a session, then the interactions"
pkce
http setup-auth GET "$(authorize_url setup-state setup-nonce "$challenge")"
expect_status 303 setup-auth
interactions=0
hops=0
while case "$location" in "$redirect_uri"*) false ;; *) true ;; esac do
  hops=$((hops + 1))
  [ "$hops" -le 8 ] || fail "too many redirects"
  case "$location" in */interaction/*) interactions=$((interactions + 1)) ;; esac
  http "setup-hop$hops" GET "$(absolute "$location")"
  expect_status 303 "setup-hop$hops"
done
check_callback "$location" setup-state
[ "$interactions" -ge 1 ] || fail "the first authorization request did not go through an interaction"
grep -q '_session' "$jar" || fail "no session cookie after the setup"
echo "   session established after $interactions interaction(s); code issued"

step "SSO: second authorization request with the session cookies (no interaction expected)"
pkce
state=sso-state-$RANDOM
nonce=sso-nonce-$RANDOM
http sso-auth GET "$(authorize_url "$state" "$nonce" "$challenge")"
expect_status 303 sso-auth
case "$location" in */interaction/*) fail "the SSO request asked for an interaction: $location" ;; esac
check_callback "$location" "$state"
echo "   direct 303 to the client with a code"

step "SSO: token request (client_secret_basic, PKCE verifier)"
bc token POST "$base$token_path" -u "$client_id:$client_secret" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$code" \
  --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier"
expect_status 200 token
access_token=$(json "$work/token.body" access_token)
id_token=$(json "$work/token.body" id_token)
[ -n "$access_token" ] || fail "no access_token"
[ -n "$id_token" ] || fail "no id_token"
[ "$(json "$work/token.body" token_type)" = Bearer ] || fail "token_type is not Bearer"
case "$access_token" in *.*) fail "access token looks like a JWT: $access_token" ;; esac
echo "   access_token (opaque, ${#access_token} chars): $access_token"
bc jwks GET "$base$jwks_path"
expect_status 200 jwks
node -e '
  const crypto = require("crypto");
  const [idToken, jwksFile, issuer, nonce, clientId] = process.argv.slice(1);
  const [h, p, s] = idToken.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url"));
  const payload = JSON.parse(Buffer.from(p, "base64url"));
  const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
  if (header.alg !== "ES256") fail("id_token alg is " + header.alg);
  const jwk = JSON.parse(require("fs").readFileSync(jwksFile, "utf8")).keys.find((k) => k.kid === header.kid);
  if (!jwk) fail("no key " + header.kid + " in the JWKS");
  const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
  const ok = crypto.verify("sha256", Buffer.from(h + "." + p), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
  if (!ok) fail("id_token signature does not verify");
  if (payload.iss !== issuer) fail("id_token iss " + payload.iss);
  if (payload.aud !== clientId) fail("id_token aud " + payload.aud);
  if (payload.nonce !== nonce) fail("id_token nonce " + payload.nonce);
  console.log("   id_token header " + JSON.stringify(header) + ", signature verified");
  console.log("   id_token claims " + JSON.stringify(payload));
' "$id_token" "$work/jwks.body" "$issuer" "$nonce" "$client_id" || fail "id_token checks"
sub=$(node -e 'process.stdout.write(JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")).sub)' "$id_token")

step "SSO: userinfo"
bc userinfo GET "$base$userinfo_path" -H "Authorization: Bearer $access_token"
expect_status 200 userinfo
echo "   $(cat "$work/userinfo.body")"
[ "$(json "$work/userinfo.body" given_name)" = "Angela Claire Louise" ] || fail "given_name"
[ "$(json "$work/userinfo.body" family_name)" = "DUBOIS" ] || fail "family_name"
[ "$(json "$work/userinfo.body" sub)" = "$sub" ] || fail "userinfo sub differs from the id_token's"

step "introspection (bench-dp, client_secret_basic)"
bc introspection POST "$base$introspection_path" -u "$dp_id:$dp_secret" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode "token=$access_token" --data-urlencode token_type_hint=access_token
expect_status 200 introspection
echo "   $(cat "$work/introspection.body")"
[ "$(json "$work/introspection.body" active)" = true ] || fail "token not active"
[ "$(json "$work/introspection.body" client_id)" = "$client_id" ] || fail "introspection client_id"
bc introspection-unknown POST "$base$introspection_path" -u "$dp_id:$dp_secret" \
  -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode token=not-a-token
expect_status 200 introspection-unknown
[ "$(json "$work/introspection-unknown.body" active)" = false ] || fail "unknown token reported active"
echo "   unknown token: $(cat "$work/introspection-unknown.body")"
bc introspection-badauth POST "$base$introspection_path" -u "$dp_id:wrong-secret" \
  -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode "token=$access_token"
expect_status 401 introspection-badauth

step "stop server"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
if [ -s "$work/server.err" ]; then
  echo "   server stderr:"
  sed 's/^/   | /' "$work/server.err"
fi
echo "smoke OK"
