#!/usr/bin/env bash
# Captures the netfilter fidelity fixtures (test/fixtures/netfilter/cases/*.json) from real Linux, in network
# namespaces named pw-nfc-* that are removed afterwards. Needs root, iproute2, iputils ping, tcpdump, python3,
# iptables and conntrack (apt-get install -y iptables conntrack iputils-ping tcpdump).
# Usage: sudo tools/capture-netfilter-cases.sh [case-name …]   (NFC_JOBS=n, NFC_IPTABLES=legacy)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "capture-netfilter-cases: needs root (network namespaces, iptables, tcpdump)" >&2
  exit 1
fi
ONLY="$*"
CAPTURE_NETFILTER=1 NFC_ONLY="${ONLY// /,}" exec npx vitest run --config tools/netfilter-cases/vitest.capture.config.ts
