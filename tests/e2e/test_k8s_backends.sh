#!/bin/bash
# frugal backends kubernetes: the kubeconfig it found, and GET /version of
# the fake API server (its probe) answered.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
k8s_start
out=$(frugal backends kubernetes) || fail "backends kubernetes: $out"
echo "$out" | grep -q "^kubernetes  *usable" || fail "not usable: $out"
echo "$out" | grep -q "probe        ok: .*GET /version: Kubernetes v1.30.0-fake" || fail "probe: $out"
ok "kubernetes: usable, GET /version answered"
