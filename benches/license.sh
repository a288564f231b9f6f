#!/bin/sh
# Times one licence key check (HMAC-SHA256 verify of a 20-byte key) and one whole monitor-side
# check (identity, lock, read and MAC of the store file, key verify), in a release build.
#   sh benches/license.sh
set -e
cd "$(dirname "$0")/.."
cargo test --release --lib license::tests::key_check_timing -- --nocapture 2>&1 |
    grep -E '^(key check|check_monitor):'
