#!/usr/bin/env bash
# Accuracy of `onnxq quantize-dynamic` on a generated BERT-style encoder, Silero VAD v5 and
# PP-OCRv4 rec: SQNR of each model's final output, quantized vs float, in ONNX Runtime.
#
#   tests/bench/bench_accuracy.sh [--build DIR] [--preset tiny|bert-mini|bert-base] [--onnxq PATH]
#
# DIR (default: build/ in the repository) must have the onnxq and make_transformer targets
# built. Work files go to a temp dir removed on exit. Prints a Markdown table on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
preset=bert-mini
onnxq=

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --onnxq) onnxq=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--preset NAME] [--onnxq PATH]" >&2; exit 2 ;;
  esac
done
onnxq=${onnxq:-$build/tools/onnxq}
make_transformer=$build/tests/bench/make_transformer
for tool in "$onnxq" "$make_transformer"; do
  if [[ ! -x $tool ]]; then
    echo "$tool is missing: cmake --build $build --target onnxq make_transformer" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/onnxq-bench-accuracy-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The mask and token types make the encoder take what a tokenizer gives it, padding included.
"$make_transformer" "$preset" "$work/$preset.onnx" --attention-mask --token-type-ids
NODE_PATH="$root/models/node_modules${NODE_PATH:+:$NODE_PATH}" \
  node "$here/bench_accuracy.js" --onnxq "$onnxq" --work "$work" --transformer "$work/$preset.onnx"
