#!/bin/bash
# Time to the first prediction of a published BakedWeights binary, as docs/nativeaot.md reports it:
# the median wall-clock time of RUNS whole runs (date +%s%N before and after each), and the median CPU time
# (user + system, from bash's `times`) of as many more.
# Usage: samples/BakedWeights/measure-startup.sh /tmp/baked-aot/BakedWeights [RUNS]
set -e
binary=$1; runs=${2:-31}
image=$(dirname "$0")/ankle-boot.pgm
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N); "$binary" "$image" > /dev/null; end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "wall: median %.1f ms (min %.1f, max %.1f) over %d runs\n", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000, NR}'
for i in $(seq 1 "$runs"); do
  ( "$binary" "$image" > /dev/null; times ) | tail -1 | awk '{ split($1, u, "m"); split($2, s, "m");
    printf "%.1f\n", (u[1] * 60 + u[2]) * 1000 + (s[1] * 60 + s[2]) * 1000 }'
done | sort -n | awk '{a[NR]=$1} END {printf "cpu: median %.1f ms (min %.1f) over %d runs\n", a[int((NR+1)/2)], a[1], NR}'
