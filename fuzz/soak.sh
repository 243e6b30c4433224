#!/bin/sh
# Runs one fuzz target with a 1 s per-input timeout on a shared, loaded machine, where the
# timeout (wall clock) also fires when the fuzzer is merely descheduled. When a run stops on
# a timeout, the input is re-run alone: if it needs under 0.2 s of CPU it was the machine, and
# fuzzing resumes (the corpus keeps the progress); otherwise it is a finding and the loop
# stops with it in artifacts/. A run that hangs in libFuzzer's timeout handler (without a
# sanitizer runtime it can deadlock in malloc) is killed after 20 s of silence. Executions
# are summed over runs in logs/TARGET.total.
#   usage: fuzz/soak.sh TARGET TOTAL_EXECS MAX_SECONDS [libFuzzer args…]
set -u
t=$1; want=$2; secs=$3; shift 3
cd "$(dirname "$0")"
mkdir -p corpus/$t artifacts/$t logs spurious
bin=target/x86_64-unknown-linux-gnu/release/$t
RUSTC_BOOTSTRAP=1 cargo fuzz build -O -s none $t >/dev/null 2>&1 || exit 1
[ -f logs/$t.total ] || echo 0 > logs/$t.total
start=$(date +%s)
while :; do
  total=$(cat logs/$t.total)
  left=$((secs - ($(date +%s) - start)))
  [ $left -le 0 ] && break
  [ $total -ge $want ] && break
  nice -n 19 $bin -timeout=1 -runs=$((want - total)) -max_total_time=$left \
    -print_final_stats=1 -artifact_prefix=artifacts/$t/ "$@" corpus/$t seeds/$t \
    > logs/$t.run.log 2>&1 &
  pid=$!
  # Watchdog: kill a run stuck after its ALARM line.
  while kill -0 $pid 2>/dev/null; do
    sleep 10
    if grep -a -q ALARM logs/$t.run.log; then
      sleep 20
      kill -9 $pid 2>/dev/null
    fi
  done
  wait $pid; rc=$?
  n=$(grep -a '^stat::number_of_executed_units' logs/$t.run.log | awk '{print $2}')
  if [ -z "$n" ]; then # killed: the last progress line says how far it got
    n=$(grep -a -o '^#[0-9]*' logs/$t.run.log | tail -n 1 | tr -d '#')
  fi
  echo $((total + ${n:-0})) > logs/$t.total
  echo "$(date -u +%T) run rc=$rc execs=${n:-0} total=$(cat logs/$t.total)" >> logs/$t.soak.log
  f=$(ls artifacts/$t/timeout-* 2>/dev/null | head -n 1)
  if [ $rc -ne 0 ] && [ -z "$f" ] && grep -a -q ALARM logs/$t.run.log; then
    echo "  stalled in the timeout handler, no input written: resumed" >> logs/$t.soak.log
    continue
  fi
  if [ $rc -ne 0 ] && [ -n "$f" ]; then
    /usr/bin/time -o logs/$t.cpu -f '%U %S' $bin "$f" >/dev/null 2>&1
    cpu=$(tail -n 1 logs/$t.cpu)
    if awk -v c="$cpu" 'BEGIN { n = split(c, a, " "); exit !(n == 2 && a[1] + a[2] < 0.2) }'; then
      echo "  spurious timeout ($cpu s CPU alone): $f" >> logs/$t.soak.log
      mv "$f" spurious/
      continue
    fi
    echo "  REAL timeout ($cpu s CPU alone): $f" >> logs/$t.soak.log
    break
  fi
  [ $rc -ne 0 ] && { echo "  finding, see logs/$t.run.log" >> logs/$t.soak.log; break; }
done
echo "$(date -u +%T) $t: $(cat logs/$t.total) executions" >> logs/$t.soak.log
