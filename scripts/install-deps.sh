#!/usr/bin/env bash
# Installs every package Sluice needs to build, test and make its models, from Debian 12's archive.
# Noninteractive and idempotent: when every package is already installed it changes nothing and
# returns at once.
set -euo pipefail

packages=(
  cmake ninja-build g++
  libdnnl-dev libonnx-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libhwloc-dev
  clang-format clang-tidy
  python3-torch python3-torchvision python3-numpy python3-onnx
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
