#!/usr/bin/env bash
# Checks the test OIDC provider (scripts/oidc/provider.mjs) end to end with curl, as a relying
# party would: dynamic registration, authorization code + PKCE S256 + state + nonce through the
# automatic login, code exchange, ID token signature and claims, the token-request counter, and
# refusal of a wrong code_verifier. Run by hand once scripts/services.sh has started the provider:
#
#   bash scripts/oidc/selftest.sh
#
# Uses curl and node (which the provider needs anyway). Exits non-zero on the first failure.
set -euo pipefail

ISSUER=${AUTHWARD_TEST_OIDC_ISSUER:-http://127.0.0.1:${AUTHWARD_OIDC_PORT:-9090}}
# Nothing listens on port 1: the chain of redirects ends there, and curl stops with "couldn't connect".
REDIRECT_URI=http://127.0.0.1:1/cb
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

# json EXPR: evaluates a JS expression with `j` bound to the JSON document read from stdin.
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const v=('"$1"');process.stdout.write(typeof v==="string"?v:JSON.stringify(v))})'; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
rand() { openssl rand 32 | b64url; }

curl -fsS "$ISSUER/.well-known/openid-configuration" >"$WORK/discovery.json" ||
  fail "no discovery document at $ISSUER (is scripts/services.sh done?)"
[ "$(json j.issuer <"$WORK/discovery.json")" = "$ISSUER" ] || fail "issuer mismatch"
ok "discovery at $ISSUER"

register() { # token_endpoint_auth_method -> registration JSON
  curl -fsS -X POST "$ISSUER/reg" -H 'content-type: application/json' \
    -d "{\"redirect_uris\":[\"$REDIRECT_URI\"],\"token_endpoint_auth_method\":\"$1\"}"
}

# authorize CLIENT_ID LOGIN_HINT CHALLENGE STATE NONCE: prints the redirect_uri the chain ends at.
authorize() {
  local url
  url="$ISSUER/auth?$(node -e '
    const [client_id, login_hint, code_challenge, state, nonce, redirect_uri] = process.argv.slice(1);
    process.stdout.write(new URLSearchParams({ response_type: "code", scope: "openid email profile",
      client_id, redirect_uri, login_hint, code_challenge, code_challenge_method: "S256", state, nonce }).toString());
  ' "$1" "$2" "$3" "$4" "$5" "$REDIRECT_URI")"
  # One chain of GETs with a cookie jar; the last hop (the redirect_uri) cannot connect.
  curl -sS -L --max-redirs 10 -c "$WORK/jar" -b "$WORK/jar" -o /dev/null \
    -w '%{url_effective}' "$url" 2>/dev/null || true
}

param() { # URL NAME
  node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"
}

stats() { curl -fsS "$ISSUER/__test/stats?client_id=$1" | json j.token_requests; }

# ---- the good path: client_secret_basic ---------------------------------------------------
register client_secret_basic >"$WORK/a.json"
A_ID=$(json j.client_id <"$WORK/a.json")
A_SECRET=$(json j.client_secret <"$WORK/a.json")
ok "registered client $A_ID (client_secret_basic)"
[ "$(stats "$A_ID")" = 0 ] || fail "fresh client has token requests"

VERIFIER=$(rand)
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
STATE=$(rand)
NONCE=$(rand)
HINT=$(printf '%s' '{"sub":"selftest-1","email":"Ada@Example.com","email_verified":false,"name":"Ada Lovelace"}' | b64url)

END=$(authorize "$A_ID" "$HINT" "$CHALLENGE" "$STATE" "$NONCE")
case $END in "$REDIRECT_URI"\?*) ;; *) fail "chain did not end at the redirect_uri: $END" ;; esac
CODE=$(param "$END" code)
[ -n "$CODE" ] || fail "no code in $END"
[ "$(param "$END" state)" = "$STATE" ] || fail "state not returned"
[ "$(param "$END" iss)" = "$ISSUER" ] || fail "iss not returned"
ok "authorization chain ended at the redirect_uri with a code"
[ "$(stats "$A_ID")" = 0 ] || fail "the authorization step counted a token request"

curl -sS -u "$A_ID:$A_SECRET" "$ISSUER/token" \
  -d grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "code_verifier=$VERIFIER" >"$WORK/token.json"
ID_TOKEN=$(json 'j.id_token || ""' <"$WORK/token.json")
[ -n "$ID_TOKEN" ] || fail "no id_token: $(cat "$WORK/token.json")"
ok "code exchanged"

curl -fsS "$ISSUER/jwks" >"$WORK/jwks.json"
node - "$ID_TOKEN" "$WORK/jwks.json" "$ISSUER" "$A_ID" "$NONCE" <<'JS' || fail "ID token check"
const crypto = require('node:crypto');
const fs = require('node:fs');
const [token, jwksFile, issuer, clientId, nonce] = process.argv.slice(2);
const [h, p, s] = token.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url'));
const claims = JSON.parse(Buffer.from(p, 'base64url'));
const jwk = JSON.parse(fs.readFileSync(jwksFile)).keys.find((k) => k.kid === header.kid);
if (!jwk) throw new Error(`no key ${header.kid} in jwks`);
const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
const good = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
const expect = (cond, what) => { if (!cond) throw new Error(`${what}: ${JSON.stringify(claims)}`); };
expect(good, `signature (${header.alg})`);
expect(claims.iss === issuer, 'iss');
expect(claims.aud === clientId, 'aud');
expect(claims.nonce === nonce, 'nonce');
expect(claims.sub === 'selftest-1', 'sub');
expect(claims.email === 'Ada@Example.com', 'email');
expect(claims.email_verified === false, 'email_verified');
expect(claims.name === 'Ada Lovelace', 'name');
console.log(`ok: ID token ${header.alg}-signed, claims ${JSON.stringify({ sub: claims.sub, email: claims.email, email_verified: claims.email_verified, name: claims.name })}`);
JS
[ "$(stats "$A_ID")" = 1 ] || fail "stats for $A_ID: want 1, got $(stats "$A_ID")"
ok "stats count one token request for $A_ID"

# The same code a second time is refused (single use).
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -u "$A_ID:$A_SECRET" "$ISSUER/token" \
  -d grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "code_verifier=$VERIFIER")
[ "$STATUS" = 400 ] || fail "code reuse answered $STATUS"
ok "a used code is refused"

# ---- a wrong code_verifier: client_secret_post, plain-email login_hint ----------------------
register client_secret_post >"$WORK/b.json"
B_ID=$(json j.client_id <"$WORK/b.json")
B_SECRET=$(json j.client_secret <"$WORK/b.json")
VERIFIER=$(rand)
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
END=$(authorize "$B_ID" "grace@example.com" "$CHALLENGE" "$(rand)" "$(rand)")
CODE=$(param "$END" code)
[ -n "$CODE" ] || fail "no code in $END"
curl -sS "$ISSUER/token" -d grant_type=authorization_code -d "client_id=$B_ID" \
  --data-urlencode "client_secret=$B_SECRET" --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "code_verifier=$(rand)" >"$WORK/bad.json"
[ "$(json 'j.error || ""' <"$WORK/bad.json")" = invalid_grant ] || fail "wrong verifier: $(cat "$WORK/bad.json")"
ok "a wrong code_verifier is refused (invalid_grant)"
[ "$(stats "$B_ID")" = 1 ] || fail "stats for $B_ID: want 1"
ok "stats count the refused request for $B_ID (client_secret_post)"

# ---- no PKCE: refused before any code is issued -----------------------------------------------
NOPKCE=$(curl -sS -o /dev/null -w '%{redirect_url}' "$ISSUER/auth?$(node -e '
  process.stdout.write(new URLSearchParams({ response_type: "code", scope: "openid", client_id: process.argv[1],
    redirect_uri: process.argv[2], login_hint: "x@example.com", state: "s" }).toString());' "$B_ID" "$REDIRECT_URI")")
[ "$(param "$NOPKCE" error)" = invalid_request ] || fail "request without PKCE: $NOPKCE"
ok "an authorization request without PKCE is refused"

echo "selftest passed against $ISSUER"
