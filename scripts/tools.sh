#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing:
# cmake + libclang (whisper.cpp through whisper-rs), espeak-ng/festival voices, sox and lame
# (synthetic speech and audio formats in the engine tests and sample calls).
set -euo pipefail
need=()
command -v cmake >/dev/null || need+=(cmake)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v lame >/dev/null || need+=(lame)
command -v festival >/dev/null || need+=(festival festvox-kallpc8k festvox-us-slt-hts)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
