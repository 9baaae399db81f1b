#!/bin/bash
# The AWS credential chain beyond static keys, against moto with SigV4
# checking on (--auth): frugal gc (DescribeInstances, S3 listing) works
# with a profile that has
#  1. role_arn + source_profile: STS AssumeRole through the Query API,
#     signed by frugal's own SigV4 with the source profile's keys; moto
#     checks that signature and the assumed role's credentials after it;
#  2. credential_process: the command (quoted arguments, no shell) prints
#     Version 1 JSON;
#  3. SSO: the token 'aws sso login' cached in ~/.aws/sso/cache/
#     <sha1(session)>.json is exchanged at a fake SSO portal
#     (GET /federation/credentials, x-amz-sso_bearer_token). (An expired
#     token's message, "run 'aws sso login'", is in tests/unit/test_aws_creds.c:
#     gc does not print a backend's listing error.)
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
aws_config
KEY_ID=$AWS_ACCESS_KEY_ID
SECRET=$AWS_SECRET_ACCESS_KEY
python3 -c "
import boto3, json
iam = boto3.client('iam', endpoint_url='$MOTO_URL', region_name='us-east-1')
iam.create_role(RoleName='frugal-ci', AssumeRolePolicyDocument=json.dumps({'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': '*'}, 'Action': 'sts:AssumeRole'}]}))
iam.put_role_policy(RoleName='frugal-ci', PolicyName='all', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
" || fail "cannot make the role"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
mkdir -p "$HOME/.aws/sso/cache"
printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY_ID" "$SECRET" \
	> "$HOME/.aws/credentials"
cat > "$TMP/creds tool" <<SH
#!/bin/sh
printf '%s\n' "\$@" > "$TMP/tool.args"
echo '{"Version": 1, "AccessKeyId": "$KEY_ID", "SecretAccessKey": "$SECRET", "Expiration": "2099-01-01T00:00:00Z"}'
SH
chmod +x "$TMP/creds tool"
cat > "$HOME/.aws/config" <<INI
[profile ci]
role_arn = arn:aws:iam::123456789012:role/frugal-ci
source_profile = base
role_session_name = frugal-e2e
region = us-east-1

[profile proc]
credential_process = "$TMP/creds tool" --role 'a b'
region = us-east-1

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = FrugalAdmin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
INI

# 1. role_arn + source_profile
AWS_PROFILE=ci frugal gc --dry-run > "$TMP/gc.ci" 2>&1 || fail "gc with role_arn: $(cat "$TMP/gc.ci")"
[ "$(ec2_calls AssumeRole)" -ge 1 ] || fail "no AssumeRole call went to moto"
grep -q '"action": "DescribeInstances"' "$PROXY_LOG" || fail "no DescribeInstances after AssumeRole"
ok "role_arn + source_profile: STS AssumeRole (signed by frugal, checked by moto), then EC2 with the role's credentials"

# 2. credential_process
AWS_PROFILE=proc frugal gc --dry-run > "$TMP/gc.proc" 2>&1 || fail "gc with credential_process: $(cat "$TMP/gc.proc")"
[ "$(cat "$TMP/tool.args")" = "$(printf -- '--role\na b')" ] || fail "credential_process args: $(cat "$TMP/tool.args")"
ok "credential_process: run without a shell (quoted arguments kept), its JSON used"

# 3. SSO through a fake portal
TOKEN="sso-token-$(date +%s%N)"
PORTAL_PORT=$(free_port)
python3 - "$PORTAL_PORT" "$TOKEN" "$KEY_ID" "$SECRET" "$TMP/portal.log" <<'PY' &
import json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
port, token, kid, secret, log = sys.argv[1:6]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        ok = (u.path == "/federation/credentials" and
              self.headers.get("x-amz-sso_bearer_token") == token and
              q.get("account_id") == ["123456789012"] and q.get("role_name") == ["FrugalAdmin"])
        open(log, "a").write("%s %s\n" % (u.path, "ok" if ok else "refused"))
        body = json.dumps({"roleCredentials": {"accessKeyId": kid, "secretAccessKey": secret,
                           "sessionToken": "", "expiration": int(time.time() + 3600) * 1000}}
                          if ok else {"message": "Session token not found or invalid"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
PY
AWS_PIDS="$AWS_PIDS $!"
wait_http "http://127.0.0.1:$PORTAL_PORT/"
export AWS_ENDPOINT_URL_SSO=http://127.0.0.1:$PORTAL_PORT
cache="$HOME/.aws/sso/cache/$(printf %s corp | sha1sum | cut -d' ' -f1).json"
printf '{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "%s", "expiresAt": "2099-01-01T00:00:00Z"}' \
	"$TOKEN" > "$cache"
AWS_PROFILE=sso frugal gc --dry-run > "$TMP/gc.sso" 2>&1 || fail "gc with SSO: $(cat "$TMP/gc.sso")"
grep -q "/federation/credentials ok" "$TMP/portal.log" || fail "the portal was not asked: $(cat "$TMP/portal.log" 2>/dev/null)"
ok "SSO: the cached token ($cache) exchanged at the portal, EC2 with the role's credentials"
no_secret() { ! grep -rqF "$2" "$1"; }
no_secret "$FRUGAL_HOME" "$SECRET" || fail "the secret key is in FRUGAL_HOME"
no_secret "$FRUGAL_HOME" "$TOKEN" || fail "the SSO token is in FRUGAL_HOME"
ok "neither the secret key nor the SSO token in FRUGAL_HOME"
