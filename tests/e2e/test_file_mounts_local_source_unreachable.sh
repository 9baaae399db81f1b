#!/bin/bash
# Lambda and Runpod machines cannot read a file:// storage (it is this
# machine's disk, mirrored over SSH): a file_mounts local source, which
# launch uploads to the storage, is refused when planned there with what
# to do, before any API call; a bucket URL is not refused for it.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/data"
cd "$TMP" || fail "cd"
# The APIs are a closed port: nothing is asked of a real one.
write_config 'backends:
  lambda: {file_system: fs1, base_url: "http://127.0.0.1:9"}
  runpod: {network_volume_id: v1, base_url: "http://127.0.0.1:9"}'
printf 'file_mounts: {data: ./data}\nresources: {accelerators: A100:1}\nrun: ls\n' > local.yaml
printf 'file_mounts: {data: "s3://b/d"}\nresources: {accelerators: A100:1}\nrun: ls\n' > bucket.yaml
for b in lambda runpod; do
	LAMBDA_API_KEY=k RUNPOD_API_KEY=k timeout 20 "$FRUGAL_BIN" check --backend $b local.yaml >out 2>&1 && fail "$b planned a local source"
	grep -q "cannot plan on backend '$b': file_mounts.data: a local source is uploaded to the storage, which $b machines cannot read when it is file://: set storage: to an s3:// or gs:// URL" out ||
		fail "$b: no clear refusal: $(cat out)"
	LAMBDA_API_KEY=k RUNPOD_API_KEY=k timeout 20 "$FRUGAL_BIN" check --backend $b bucket.yaml >out 2>&1
	! grep -q "file_mounts" out || fail "$b refused a bucket mount: $(cat out)"
done
ok "a local source is refused on lambda and runpod with a file:// storage; a bucket is not"
