#!/usr/bin/env bash
# Coverage-guided fuzzing of one file reader: publish the fuzz program, instrument the project's
# assemblies with sharpfuzz, write valid seed files, and run afl-fuzz for a bounded time.
#
#   Tests/Fuzz/run-afl.sh TARGET [SECONDS]     TARGET: idx-images, idx-labels, safetensors, model, checkpoint, npy
#
# Needs afl-fuzz (apt-get install afl++) and the sharpfuzz tool
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Crashing inputs land in
# artifacts/fuzz/TARGET/findings/default/crashes; reproduce one (uninstrumented) with
#   dotnet run --project Tests/Fuzz -c Release -- TARGET --run FILE
# and keep it as Tests/Formats/FuzzRegressions/TARGET-what-it-does.bin once the reader is fixed.
set -euo pipefail

target=${1:?usage: Tests/Fuzz/run-afl.sh TARGET [SECONDS]}
seconds=${2:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${IVAE_FUZZ_DIR:-$root/artifacts/fuzz}
bin=$work/bin
export PATH="$PATH:$HOME/.dotnet/tools"

for tool in afl-fuzz sharpfuzz; do
    command -v "$tool" >/dev/null || { echo "run-afl.sh: $tool is not installed (see the top of this script)" >&2; exit 2; }
done

# A fresh publish each time: sharpfuzz refuses an assembly it has already instrumented.
rm -rf "$bin"
dotnet publish "$root/Tests/Fuzz" -c Release -o "$bin" --nologo -v quiet

# Seeds first: instrumented code run outside afl-fuzz's fork server has no coverage map to write.
mkdir -p "$work/$target"
rm -rf "$work/$target/seeds"
dotnet "$bin/ilgpu-vae-fuzz.dll" "$target" --seeds "$work/$target/seeds"

for assembly in IlgpuVae.Model.dll IlgpuVae.Training.dll; do
    sharpfuzz "$bin/$assembly"
done

# dotnet itself is not instrumented (the fork server is SharpFuzz's), and a batch node's core
# pattern and CPU governor are not ours to change.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
afl-fuzz -V "$seconds" -t 5000 -m none -i "$work/$target/seeds" -o "$work/$target/findings" \
    -- dotnet "$bin/ilgpu-vae-fuzz.dll" "$target"

crashes=$(find "$work/$target/findings" -path '*/crashes/id:*' | wc -l)
hangs=$(find "$work/$target/findings" -path '*/hangs/id:*' | wc -l)
echo "run-afl.sh: $target: $crashes crashing and $hangs hanging inputs in $work/$target/findings"
[ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ]
