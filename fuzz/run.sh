#!/usr/bin/env bash
# One AFL++ campaign against the snapshot reader (see fuzz/README.md).
#
#   fuzz/run.sh [SECONDS] [FINDINGS_DIR]      default 600 s, fuzz/findings
#
# Builds fuzz/Shmap.Fuzz (Release) into fuzz/out, instruments its Shmap.dll with SharpFuzz (a local
# dotnet tool, fuzz/dotnet-tools.json), runs afl-fuzz from the seed corpus fuzz/corpus for SECONDS,
# then prints executions, paths, crashes and hangs from afl's fuzzer_stats. Run it under
# `nice -n 10` on a shared machine. Environment: AFL_ARGS adds afl-fuzz options (e.g. "-M main"
# for a parallel main instance); RESUME=1 resumes the findings directory instead of starting anew.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-600}"
findings="${2:-$here/findings}"

if ! command -v afl-fuzz >/dev/null 2>&1; then
    echo "error: afl-fuzz not found; install AFL++ (Debian: apt-get install -y afl++)" >&2
    exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== build and instrument"
dotnet tool restore >/dev/null
rm -rf "$here/out"
dotnet publish "$here/Shmap.Fuzz/Shmap.Fuzz.csproj" -c Release -o "$here/out" -v quiet -nologo
# Only the library is instrumented: coverage of the reader is what guides the search (the sweep in
# Shmap.Tests.dll and the runtime stay uninstrumented).
dotnet tool run sharpfuzz "$here/out/Shmap.dll"

echo "== afl-fuzz for $seconds s (findings in $findings)"
input="$here/corpus"
if [ "${RESUME:-0}" = 1 ] && [ -d "$findings/default" ]; then
    input=-
fi

# dotnet itself is not an AFL binary (SharpFuzz's target speaks the forkserver protocol itself);
# no CPU binding on a shared machine; no crash-handler or CPU-governor checks in containers.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=1 AFL_AUTORESUME=1
# -t: a .NET run is slow to start and the sweep calls every API (up to tens of ms per input);
# -G: inputs stay small (records of a few KB cover every path of the reader).
# shellcheck disable=SC2086
afl-fuzz -i "$input" -o "$findings" -V "$seconds" -t 5000 -m none -G 65536 ${AFL_ARGS:-} -- dotnet "$here/out/Shmap.Fuzz.dll" >"$findings.log" 2>&1 || {
    echo "afl-fuzz failed; the end of its log ($findings.log):" >&2
    tail -30 "$findings.log" >&2
    exit 1
}

stats="$findings/default/fuzzer_stats"
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
echo "== results ($stats)"
echo "run time:    $(stat run_time) s"
echo "executions:  $(stat execs_done) ($(stat execs_per_sec)/s)"
echo "paths:       $(stat corpus_count) (found $(stat corpus_found), favored $(stat corpus_favored))"
echo "edges:       $(stat edges_found) of $(stat total_edges), bitmap $(stat bitmap_cvg)"
echo "crashes:     $(stat saved_crashes)"
echo "hangs:       $(stat saved_hangs)"
if [ "$(stat saved_crashes)" != 0 ] || [ "$(stat saved_hangs)" != 0 ]; then
    echo "triage: dotnet $here/out/Shmap.Fuzz.dll replay $findings/default/crashes/id* $findings/default/hangs/id*"
fi
