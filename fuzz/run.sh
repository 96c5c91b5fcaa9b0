#!/usr/bin/env bash
# Builds the fuzz targets with cargo-afl and runs each one under AFL++ for
# a bounded time, one after another, then prints what each run did.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS: fuzzing time per target (default 120). TARGETs: request,
# response, config (default: all three). Each run starts from the seed
# corpus in corpus/<target>/ and writes to out/<target>/ (git-ignored),
# replacing the previous run's: copy out/ away to keep it.
# Exits 1 if any target crashed, naming the crash inputs; replay one with
# `cargo run --bin <target> -- <input>` for a backtrace.
set -euo pipefail

cd "$(dirname "$0")"
secs=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request response config)

# Headless and tolerant of a shared machine: no curses UI, no CPU-governor
# or core-dump-pattern checks, no pinning to a core others may hold.
export AFL_NO_UI=1
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1

command -v cargo-afl >/dev/null || {
    echo "cargo-afl is missing: cargo install cargo-afl" >&2
    exit 2
}
cargo afl build --release

# The dictionary each target uses.
dict_of() {
    case $1 in
    config) echo dict/config.dict ;;
    *) echo dict/http.dict ;;
    esac
}

# One field of a fuzzer_stats file (AFL++ 4 spells crashes `saved_crashes`).
field() {
    awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1"
}

# The config loader resolves host names as HAProxy does at parse time. In
# an empty network namespace each lookup fails at once instead of waiting
# on DNS (40 ms each: 50 execs/s instead of thousands), and nothing the
# fuzzer makes up leaves the machine.
isolate=(unshare --map-root-user --net)
if ! "${isolate[@]}" true 2>/dev/null; then
    echo "warning: unshare --net unavailable; host names will be looked up" >&2
    isolate=()
fi

crashed=0
for t in "${targets[@]}"; do
    out=out/$t
    rm -rf "$out"
    mkdir -p out
    echo "== $t: fuzzing for ${secs}s (log: fuzz/$out.log)"
    # -V: stop after that many seconds; -m none: no memory cap.
    "${isolate[@]}" cargo afl fuzz -V "$secs" -m none -x "$(dict_of "$t")" \
        -i "corpus/$t" -o "$out" -- "target/release/$t" >"$out.log" 2>&1 || {
        echo "afl-fuzz failed for $t; the end of its log:" >&2
        tail -20 "$out.log" >&2
        exit 2
    }
    s=$out/default/fuzzer_stats
    printf '%-8s execs %s (%s/s over %ss), corpus %s, crashes %s, hangs %s, afl++ %s\n' \
        "$t" "$(field "$s" execs_done)" "$(field "$s" execs_per_sec)" \
        "$(field "$s" run_time)" "$(field "$s" corpus_count)" \
        "$(field "$s" saved_crashes)" "$(field "$s" saved_hangs)" \
        "$(field "$s" afl_version)"
    for c in "$out"/default/crashes/id:*; do
        [ -e "$c" ] || continue
        echo "  crash: fuzz/$c"
        crashed=1
    done
    for h in "$out"/default/hangs/id:*; do
        if [ -e "$h" ]; then echo "  hang: fuzz/$h"; fi
    done
done
exit "$crashed"
