#!/usr/bin/env bash
# Nightly-style fuzzing: builds every cargo-fuzz target in fuzz/ and runs each, one after the
# other, for a bounded time. Not part of `cargo test` or CI's default run (it needs libFuzzer,
# a nightly-capable compiler and minutes per target).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
#   IDPSIM_FUZZ_STABLE=1 scripts/fuzz.sh ...              (stable + RUSTC_BOOTSTRAP even if nightly exists)
#
# Prints target → executions, leaves crashing inputs in fuzz/artifacts/<target>/ and exits 1
# when any target crashed, leaked past the memory limit or timed out on one input; 2 when the
# tools are missing or the build fails. Corpora grow in fuzz/corpus/<target>/ (git-ignored)
# from the committed seeds in fuzz/seeds/<target>/; logs go to fuzz/logs/<target>.log.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]  (seconds must be a positive integer, got '$seconds')" >&2
    exit 2
fi
shift $(($# > 0 ? 1 : 0))

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: run 'cargo install cargo-fuzz --locked'" >&2
    exit 2
fi

# cargo-fuzz needs unstable compiler flags (-Zsanitizer, coverage passes). Prefer a real
# nightly toolchain; without one, let stable accept them through RUSTC_BOOTSTRAP.
# IDPSIM_FUZZ_STABLE=1 forces the stable route (to check it, or where nightly is broken).
if [ -z "${IDPSIM_FUZZ_STABLE:-}" ] && rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
    echo "toolchain: nightly ($(rustup run nightly rustc --version))"
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    why="no nightly installed"
    [ -n "${IDPSIM_FUZZ_STABLE:-}" ] && why="IDPSIM_FUZZ_STABLE is set"
    echo "toolchain: stable with RUSTC_BOOTSTRAP=1 ($(rustc --version); $why)"
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list)
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets found in fuzz/fuzz_targets" >&2
    exit 2
fi

echo "building ${#targets[@]} targets…"
if ! "${fuzz[@]}" build; then
    echo "the fuzz targets do not build" >&2
    exit 2
fi

mkdir -p fuzz/logs
declare -A outcome executions
failed=0
for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus" "fuzz/artifacts/$target"
    seeds=()
    [ -d "fuzz/seeds/$target" ] && seeds+=("fuzz/seeds/$target")
    # The shipped scenarios are the best start for the loader: real files, every feature.
    [ "$target" = scenario_loader ] && seeds+=("scenarios")
    # libFuzzer keeps inputs under 4 KiB by default; Entra expressions may be 10,000
    # characters, and nesting bugs only show near that length.
    max_len=()
    [ "$target" = entra_expression ] && max_len=(-max_len=10240)
    # The loader amplifies a prefixed input to megabytes itself (src/fuzzing/scenario_loader.rs);
    # 64 KiB leaves room for whole scenarios and for the text being repeated or nested.
    [ "$target" = scenario_loader ] && max_len=(-max_len=65536)
    log="fuzz/logs/$target.log"
    echo "fuzzing $target for ${seconds}s (log: $log)"
    # -rss_limit_mb: a parser that balloons on one input is a bug; -timeout: so is one input
    # that takes seconds. Both leave the input in fuzz/artifacts/<target>/.
    "${fuzz[@]}" run "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${max_len[@]}" \
        >"$log" 2>&1
    rc=$?
    # libFuzzer's last words: "stat::number_of_executed_units: N" (-print_final_stats) or
    # "Done N runs in S second(s)".
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n1 | grep -o '[0-9]*$')"
    [ -z "$runs" ] && runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -n1 | grep -o '[0-9]\+')"
    executions[$target]="${runs:-?}"
    if [ $rc -eq 0 ]; then
        outcome[$target]="ok"
    else
        failed=1
        artifact="$(grep -o 'Test unit written to [^ ]*' "$log" | tail -n1 | sed 's/Test unit written to //')"
        outcome[$target]="FAILED (exit $rc${artifact:+; input: $artifact})"
    fi
done

echo
printf '%-20s %14s  %s\n' target executions outcome
for target in "${targets[@]}"; do
    printf '%-20s %14s  %s\n' "$target" "${executions[$target]}" "${outcome[$target]}"
done
printf '(%ss per target, %s, %s cores)\n' "$seconds" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc 2>/dev/null || echo '?')"

if [ $failed -ne 0 ]; then
    echo "some targets failed: reproduce with '${fuzz[*]} run <target> <input>', see fuzz/logs/" >&2
    exit 1
fi
