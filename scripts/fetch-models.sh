#!/usr/bin/env bash
# Fetches the recognition models and the face test photos from PyPI (never from a model hub),
# checks each archive against its pinned SHA-256 and extracts what Anfang loads into one models
# directory: $ANFANG_MODELS, or ~/.cache/anfang/models. Idempotent: present files are kept.
#
#   face-recognition-models 0.3.0 (sdist, CC0): dlib's ResNet embedding, 5-point landmarks, MMOD
#   rapidocr-onnxruntime 1.4.4 (wheel, Apache-2.0): PP-OCRv4 text detection and recognition ONNX
#   face_recognition 1.3.0 (sdist, MIT; public-domain portraits): tests/test_images for the tests
set -euo pipefail
dir="${ANFANG_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/anfang/models}"
mkdir -p "$dir/fixtures"

want=(
  dlib_face_recognition_resnet_model_v1.dat
  shape_predictor_5_face_landmarks.dat
  mmod_human_face_detector.dat
  ch_PP-OCRv4_det_infer.onnx
  ch_PP-OCRv4_rec_infer.onnx
  fixtures/obama.jpg
  fixtures/obama2.jpg
  fixtures/obama3.jpg
  fixtures/biden.jpg
)
missing=0
for f in "${want[@]}"; do [ -s "$dir/$f" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "models present in $dir"; exit 0; fi

command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-pip; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # name==version, sdist|wheel, sha256
  local spec=$1 kind=$2 sum=$3 flags=(--no-deps -q -d "$tmp")
  if [ "$kind" = sdist ]; then flags+=(--no-binary :all:); else flags+=(--only-binary :all:); fi
  python3 -m pip download "${flags[@]}" "$spec" >&2
  local file
  file=$(ls -t "$tmp" | head -1)
  echo "$sum  $tmp/$file" | sha256sum -c --quiet - >&2 || { echo "checksum mismatch: $file" >&2; exit 1; }
  echo "$tmp/$file"
}

a=$(fetch face-recognition-models==0.3.0 sdist b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf)
tar -xzf "$a" -C "$tmp"
for f in dlib_face_recognition_resnet_model_v1.dat shape_predictor_5_face_landmarks.dat mmod_human_face_detector.dat; do
  cp "$tmp/face_recognition_models-0.3.0/face_recognition_models/models/$f" "$dir/$f"
done

a=$(fetch rapidocr-onnxruntime==1.4.4 wheel 971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf)
python3 - "$a" "$dir" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"):
        with open(f"{sys.argv[2]}/{name}", "wb") as out:
            out.write(z.read(f"rapidocr_onnxruntime/models/{name}"))
PY

a=$(fetch face_recognition==1.3.0 sdist 5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec)
tar -xzf "$a" -C "$tmp"
for f in obama.jpg obama2.jpg obama3.jpg biden.jpg obama_partial_face.jpg; do
  cp "$tmp/face_recognition-1.3.0/tests/test_images/$f" "$dir/fixtures/$f"
done
echo "models fetched into $dir"
