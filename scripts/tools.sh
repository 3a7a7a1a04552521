#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing.
#   bash scripts/tools.sh build   cmake + libclang (whisper.cpp through whisper-rs)
#   bash scripts/tools.sh         the above, plus espeak-ng, festival voices, sox and lame
#                                 (synthetic speech and audio formats in the tests and samples)
#   bash scripts/tools.sh test    all of the above, plus Chromium + Node.js (the browser test)
set -euo pipefail
need=()
command -v cmake >/dev/null || need+=(cmake)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ "${1:-all}" != build ]; then
  command -v espeak-ng >/dev/null || need+=(espeak-ng)
  command -v sox >/dev/null || need+=(sox)
  command -v lame >/dev/null || need+=(lame)
  command -v text2wave >/dev/null || need+=(festival festvox-kallpc8k festvox-us-slt-hts)
fi
if [ "${1:-all}" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v node >/dev/null || need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" >&2
fi
