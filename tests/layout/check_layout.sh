#!/bin/bash
# The layout rules of docs/ARCHITECTURE.md, checked:
#  1. Outside src/backend/, no file of src/ names a backend or its API
#     (the words below, any case, as a whole word: "aws_creds" and "AWS_"
#     count, "laws" does not); what it needs to know per backend it asks
#     the registry. Lines allowed anyway are in tests/layout/allowlist
#     ("PATH<TAB>TEXT": a line of PATH that contains TEXT).
#  2. Layers: a file includes headers of its own layer and of the layers
#     before it only (LAYERS, in order).
#  3. A backend folder includes only its own headers, src/backend/common/
#     and the headers of src/backend/ itself; registry.c lists the
#     descriptors and includes no backend folder.
# Usage: check_layout.sh [SOURCE_TREE]   (default $FRUGAL_SRC, else this tree)
set -u
SRC=${1:-${FRUGAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}}
ALLOW="$SRC/tests/layout/allowlist"
[ -f "$ALLOW" ] || ALLOW="$(cd "$(dirname "$0")" && pwd)/allowlist"
LAYERS="base util spec store contract catalog storage backend controller agent cli"
# Headers the build writes (cmake/BuildInfo.cmake), of no layer.
GENERATED="frugal_build_info.h"
WORDS="aws|ec2|s3|gcp|gce|gcs|lambda|runpod|kubernetes|k8s|kubeconfig|kubectl|slurm|sbatch|squeue|scancel|sacct|slurmd|imds|sigv4|gcloud|boto|botocore"
fail=0
cd "$SRC" || exit 2

# 1. Names.
allowed() {	# allowed FILE LINE
	local path text
	while IFS=$'\t' read -r path text; do
		case "$path" in ''|'#'*) continue ;; esac
		[ "$path" = "$1" ] && [[ "$2" == *"$text"* ]] && return 0
	done < "$ALLOW"
	return 1
}
while IFS= read -r hit; do
	file=${hit%%:*}
	rest=${hit#*:}
	line=${rest#*:}
	allowed "$file" "$line" && continue
	echo "layout: $file:${rest%%:*}: names a backend outside src/backend/: ${line#"${line%%[![:space:]]*}"}"
	fail=1
done < <(find src -name '*.[ch]' -not -path 'src/backend/*' -print0 | sort -z |
	 xargs -0 grep -niE "(^|[^a-z0-9])($WORDS)([^a-z0-9]|$)")

# 2 and 3. Includes.
layer_index() {	# layer_index NAME: its position in LAYERS, or nothing
	local i=0 l
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
}
while IFS= read -r file; do
	own=${file#src/}
	own=${own%%/*}
	own_i=$(layer_index "$own")
	if [ -z "$own_i" ]; then
		echo "layout: $file: directory src/$own is not a layer; add it to LAYERS in $0 and to docs/ARCHITECTURE.md"
		fail=1
		continue
	fi
	folder=""
	case "$file" in src/backend/*/*) folder=${file#src/backend/}; folder=${folder%%/*} ;; esac
	while IFS= read -r inc; do
		case " $GENERATED " in *" $inc "*) continue ;; esac
		dep=${inc%%/*}
		dep_i=$(layer_index "$dep")
		if [ -z "$dep_i" ]; then
			echo "layout: $file: includes \"$inc\" of no layer"
			fail=1
		elif [ "$dep_i" -gt "$own_i" ]; then
			echo "layout: $file: includes \"$inc\": layer $dep comes after $own"
			fail=1
		elif [ "$dep" = backend ] && [ "$own" = backend ]; then
			sub=${inc#backend/}
			case "$sub" in */*) sub=${sub%%/*} ;; *) sub="" ;; esac
			if [ -n "$sub" ] && [ "$sub" != common ] && [ "$sub" != "$folder" ]; then
				echo "layout: $file: includes \"$inc\" of another backend folder"
				fail=1
			fi
		fi
	done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$file")
done < <(find src -name '*.[ch]' | sort)

if [ $fail -ne 0 ]; then
	echo "layout: FAILED (rules: docs/ARCHITECTURE.md, 'The layering rule')"
	exit 1
fi
echo "layout: ok"
