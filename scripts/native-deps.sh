#!/usr/bin/env bash
# Installs the C/C++ libraries Anfang links, from Debian's packages, when they are missing:
# dlib (face detection, landmarks, the ResNet embedding) and OpenBLAS (dlib's matrix work runs
# ~10x slower on the reference BLAS), with the LAPACK/BLAS link names the build needs, and a CJK
# font for the plate scenes the OCR tests and benchmark render.
set -euo pipefail
need=()
for pkg in libdlib-dev libopenblas-dev liblapack-dev libblas-dev fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
