#!/bin/bash
# check_prism (tests/fakes/cloud.sh), the guard of the Lambda and Runpod
# spec tests, fails when no request went through Prism (before, it said
# "ok" about zero requests) and on any violation, and passes only when
# requests went through and every one was accepted. Run on logs in
# Prism's own format; needs neither Prism nor a cloud.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"

received='[10:00:01 AM] › [HTTP SERVER] post /instance-operations/launch ℹ  info      Request received'
accepted='[10:00:01 AM] › [VALIDATOR] ✔  success   The request passed the validation rules. Looking for the best response'

# check LOG_TEXT: the exit status of check_prism on a prism.log holding it.
check() {
	printf '%s\n' "$1" > "$TMP/prism.log"
	( check_prism ) > "$TMP/check.out" 2>&1
}

: > "$TMP/prism.log"
check "" && fail "check_prism passed with no request through Prism"
grep -q "no request went through Prism" "$TMP/check.out" || fail "wrong message: $(cat "$TMP/check.out")"
check "[10:00:00 AM] › [CLI] …  awaiting  Starting Prism…
[10:00:00 AM] › [CLI] ℹ  info      Prism is listening on http://127.0.0.1:4010" &&
	fail "check_prism passed on a Prism that received nothing"
ok "zero requests: fails"

rm -f "$TMP/prism.log"
( check_prism ) > "$TMP/check.out" 2>&1 && fail "check_prism passed without a Prism log"
ok "no Prism log: fails"

check "$received
[10:00:01 AM] › [VALIDATOR] ✖  error     Request body must have required property 'region_name'
[10:00:01 AM] › [VALIDATOR] ✖  error     Violation: request.body Request body must have required property 'region_name'" &&
	fail "check_prism passed with a request violation"
check "$received
$accepted
[10:00:01 AM] › [VALIDATOR] ✖  error     Violation: response.body Response body property data must be object" &&
	fail "check_prism passed with a response violation"
ok "a violation: fails"

check "$received
$accepted
$received
$accepted" || fail "check_prism failed on two accepted requests: $(cat "$TMP/check.out")"
grep -q "^ok - 2 requests went through Prism" "$TMP/check.out" || fail "wrong report: $(cat "$TMP/check.out")"
ok "requests that all pass: ok"
