#!/usr/bin/env bash
# Write a Kunpeng 920 /proc/cpuinfo (HiSilicon implementer 0x48, part 0xd01, its ARMv8.2 feature
# flags: NEON and dot product, no SVE, no BF16) with one entry per CPU of this machine.
# qemu-user passes the x86 host's cpuinfo through, and torch's CPU detection crashes on it;
# the arm64 lab container sees this file over /proc/cpuinfo instead.
# usage: kunpeng-cpuinfo.sh OUT
set -euo pipefail
out="$1"
tmp="$(mktemp)"
for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
  printf 'processor\t: %d\nBogoMIPS\t: 200.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma dcpop asimddp asimdfhm ssbs\nCPU implementer\t: 0x48\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd01\nCPU revision\t: 0\n\n' "$cpu"
done >"$tmp"
mv "$tmp" "$out"
chmod 0644 "$out"
