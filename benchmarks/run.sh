#!/bin/bash
# Builds the benchmarks (Release) and runs all of them in ONE BenchmarkDotNet run, in-process, so that every ratio
# is measured side by side. Writes benchmarks/results/latest.md (the Markdown table with GFLOP/s, fraction of the
# measured FMA peak and the NetGen/TorchSharp and NetGen/runtime-shaped ratios) and BenchmarkDotNet's own report.
#
# usage: benchmarks/run.sh [--quick] [verify] [--network NAME] [BenchmarkDotNet options, e.g. --filter '*Latency*']
#        benchmarks/run.sh profile --network NAME [--threads N] [--steps N]
#   --quick   a short job for development (the default is the full job, about 10 minutes on 2 cores)
#   --network only one network's cases (LeNet5, WideNet, ResNet or ResNetBN) and the FMA peak
#   verify    only check that the runtime-shaped, TorchSharp and ONNX Runtime networks match the generated ones, that
#             TorchSharp loads the weights files NetGen saves (ResNetBN, every layer kind) and gives the same outputs,
#             and that NetGen's calls allocate 0 bytes after warm-up
#   profile   the per-layer profile instead (benchmarks/NetGen.Profile: the same networks compiled with NETGEN_PROFILE):
#             each generated layer method's time, GFLOP/s and share of the FMA peak in a training step, an inference
#             batch and a single-image forward; needs no TorchSharp
#
# TorchSharp 0.107's native wrapper needs a libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer). If the system's has
# it, the plain dotnet host is used; otherwise ../shared/tools/torchsharp-env.sh next to the repository (or the
# script named by $TORCHSHARP_ENV) supplies a newer libc/libstdc++ without installing anything system-wide.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ "${1:-}" = profile ]; then
  shift
  dotnet build benchmarks/NetGen.Profile -c Release -nologo -v quiet
  exec dotnet benchmarks/NetGen.Profile/bin/Release/net10.0/NetGen.Profile.dll "$@"
fi

dotnet build benchmarks/NetGen.Benchmarks -c Release -nologo -v quiet
dll=benchmarks/NetGen.Benchmarks/bin/Release/net10.0/NetGen.Benchmarks.dll

libstdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [ -n "${TORCHSHARP_ENV:-}" ]; then
  runner=("$TORCHSHARP_ENV")
elif [ -n "$libstdcxx" ] && grep -q GLIBCXX_3.4.32 "$libstdcxx" 2>/dev/null; then
  runner=(dotnet)
elif [ -x "$repo/../shared/tools/torchsharp-env.sh" ]; then
  runner=("$repo/../shared/tools/torchsharp-env.sh")
else
  echo "TorchSharp 0.107 needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+), which this system lacks." >&2
  echo "Install a newer libstdc++ (e.g. Debian 13 / Ubuntu 24.04), or set TORCHSHARP_ENV to a script that runs" >&2
  echo "'dotnet <dll> <args>' with one on the library path (see docs/benchmarks.md)." >&2
  exit 1
fi

mkdir -p benchmarks/results
artifacts=benchmarks/results/BenchmarkDotNet.Artifacts
"${runner[@]}" "$dll" --report benchmarks/results/latest.md --artifacts "$artifacts" "$@"

# Keep BenchmarkDotNet's own table of the latest run next to ours.
latest=$(ls -t "$artifacts"/results/*-report-github.md 2>/dev/null | head -1 || true)
if [ -n "$latest" ]; then
  cp "$latest" benchmarks/results/latest-benchmarkdotnet.md
fi
