#!/bin/bash
# bench_offers: whole-process time of `frugal offers H100` over every
# shipped price table (target: under 50 ms), and the optimizer's time for
# one request (target: under 5 ms, bench_optimizer.c).
# Method: a fresh FRUGAL_HOME (so the shipped tables are read), one
# warm-up run, then 30 runs of each command; the median and the worst
# wall-clock time (fork+exec to exit) are reported. The same is measured
# with upstream-sized tables in $FRUGAL_HOME/catalog (what `frugal
# catalog update` installs: ~59,000 AWS rows, ~30,000 GCP rows, ~10,000
# Runpod rows), made by repeating the shipped rows in new zones.
set -eu
FRUGAL=${1:-build/frugal}
FRUGAL=$(realpath "$FRUGAL")
BUILD=$(dirname "$FRUGAL")
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
trap 'rm -rf "$FRUGAL_HOME"' EXIT

measure() {
	python3 - "$@" <<'PY'
import subprocess, sys, time, statistics
cmd = sys.argv[1:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
ts = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
print(f"  {' '.join(c.split('/')[-1] for c in cmd):34s} median {statistics.median(ts):7.2f} ms   max {max(ts):7.2f} ms")
PY
}

echo "bench_offers: whole process, shipped tables ($(cat "$(dirname "$0")/../catalog"/*/vms.csv | wc -l) lines)"
measure "$FRUGAL" version
measure "$FRUGAL" offers H100
measure "$FRUGAL" offers H100 --json
measure "$FRUGAL" offers A100:8 --spot
measure "$FRUGAL" offers --limit 0

python3 - "$(dirname "$0")/../catalog" "$FRUGAL_HOME/catalog" <<'PY'
# Upstream-sized tables: the shipped GPU rows plus CPU-only VM rows (and,
# for GCP, n1 hosts in every zone that sells T4/V100/P100/P4), about as
# many rows and bytes as the full upstream files (aws ~59,000 rows / 3.6 MB,
# gcp ~30,000 / 2.2 MB, runpod ~10,500 / 2.1 MB).
import os, sys
src, dst = sys.argv[1], sys.argv[2]
def read(c):
    lines = open(os.path.join(src, c, "vms.csv"), newline="").read().splitlines(True)
    return lines[0], lines[1:]
def write(c, header, rows):
    os.makedirs(os.path.join(dst, c), exist_ok=True)
    open(os.path.join(dst, c, "vms.csv"), "w", newline="").write(header + "".join(rows))
h, rows = read("aws")
zones = sorted({(r.split(",")[-3], r.split(",")[-2]) for r in rows if r.count(",") >= 10})
fam = ["m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i", "r7i", "t3", "m6a", "c6a", "r6a"]
sizes = [("large", 2, 8), ("xlarge", 4, 16), ("2xlarge", 8, 32), ("4xlarge", 16, 64),
         ("8xlarge", 32, 128), ("12xlarge", 48, 192), ("16xlarge", 64, 256), ("24xlarge", 96, 384)]
out, i = list(rows), 0
while len(out) < 59000:
    f, (sz, cpu, mem) = fam[i % len(fam)], sizes[(i // len(fam)) % len(sizes)]
    reg, zone = zones[(i // (len(fam) * len(sizes))) % len(zones)]
    out.append(f"{f}.{sz},,,{cpu}.0,{mem}.0,,{cpu * 0.048:.4f},{cpu * 0.017:.6f},{reg},{zone}-{i // 5000},x86_64\n")
    i += 1
write("aws", h, out)
h, rows = read("gcp")
zones = sorted({(r.split(",")[6], r.split(",")[7]) for r in rows if r.startswith(",,,T4,")})
out = list(rows)
for reg, zone in zones:
    for kind, mem in (("standard", 3.75), ("highmem", 6.5), ("highcpu", 0.9)):
        for cpu in (1, 2, 4, 8, 16, 32, 64, 96):
            if kind == "standard" or cpu > 1:
                out.append(f"n1-{kind}-{cpu},{cpu}.0,{cpu * mem:g},,,,{reg},{zone},{cpu * 0.0475:.5f},{cpu * 0.01:.5f}\n")
allz = sorted({(r.split(",")[6], r.split(",")[7]) for r in rows})
i = 0
while len(out) < 30000:
    kind = ("n2-standard", "n2-highmem", "e2-standard", "c2-standard", "n2d-standard")[i % 5]
    cpu = (2, 4, 8, 16, 32, 48, 64, 80)[(i // 5) % 8]
    reg, zone = allz[(i // 40) % len(allz)]
    out.append(f"{kind}-{cpu},{cpu}.0,{cpu * 4}.0,,,,{reg},{zone}{i // 4000 or ''},{cpu * 0.05:.5f},{cpu * 0.012:.5f}\n")
    i += 1
write("gcp", h, out)
h, rows = read("runpod")
out = list(rows)
for r in rows:
    if len(out) >= 10500:
        break
    out.append(r.replace(",US-", ",US2-", 1) if ",US-" in r else r.replace(",CA-", ",CA2-", 1))
write("runpod", h, out)
PY
echo "bench_offers: whole process, upstream-sized tables in \$FRUGAL_HOME/catalog ($(cat "$FRUGAL_HOME"/catalog/*/vms.csv | wc -l) lines, $(cat "$FRUGAL_HOME"/catalog/*/vms.csv | wc -c) bytes; lambda shipped)"
measure "$FRUGAL" offers H100
measure "$FRUGAL" offers A100:8 --spot

if cmake --build "$BUILD" --target bench_optimizer >/dev/null 2>&1 && [ -x "$BUILD/bench_optimizer" ]; then
	"$BUILD/bench_optimizer" 1000
	"$BUILD/bench_optimizer" 200 "$FRUGAL_HOME"
else
	echo "bench_optimizer: not built (cmake --build $BUILD --target bench_optimizer)"
fi
