#!/bin/bash
# Bounded multi-process stress test of the shared-memory queue: millions
# of random-size messages with checksums, then rounds where a producer or
# the consumer is SIGKILLed at a random point and the survivors must notice.
# Bounded by --count and a per-round --timeout (and ctest's TIMEOUT).
. "$(dirname "$0")/../lib.sh"
stress="$TOOLS/shmq_stress"
[ -x "$stress" ] || fail "$stress not built"
seed=${SHMQ_STRESS_SEED:-$(date +%s)}
echo "seed $seed (set SHMQ_STRESS_SEED to replay)"
set -e
# 2 million messages, single producer, no kills
"$stress" --count 1000000 --rounds 2 --seed "$seed" --timeout 120
# no busy-wait: every wait sleeps, so every message depends on a wake-up
"$stress" --count 200000 --rounds 2 --spin 0 --seed "$seed" --timeout 120
"$stress" --count 200000 --rounds 1 --spin 0 --producers 3 --seed "$seed" --timeout 120
# 1 million messages over 3 producers (multi-producer mode)
"$stress" --count 1000000 --rounds 1 --producers 3 --seed "$seed" --timeout 120
# kills: 12 rounds of 200k messages, victim and moment chosen from the seed
"$stress" --count 200000 --rounds 12 --kill --seed "$seed" --timeout 60
"$stress" --count 200000 --rounds 6 --kill --producers 3 --seed "$seed" --timeout 60
# large messages through a small ring (wrap-around, non-temporal copies)
"$stress" --count 4000 --rounds 2 --capacity 1048576 --max-size 400000 --seed "$seed" --timeout 60
