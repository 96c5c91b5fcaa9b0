#!/bin/sh
# Regenerates examples/expected/*.txt from the real haproxy binary.
# Run from the repository root: sh examples/expected/regen.sh
# Format: line 1 "exit: N", then haproxy's stderr followed by its stdout
# (stdout is block-buffered, so 2>&1 into a file gives this order anyway),
# with the process id replaced by PID.
set -u
for f in examples/*.cfg examples/broken/*.cfg examples/errors/*.cfg; do
  name=$(echo "$f" | sed 's#^examples/##; s#/#-#g; s#\.cfg$##')
  haproxy -c -f "$f" >/tmp/regen.out 2>/tmp/regen.err
  rc=$?
  { echo "exit: $rc"; cat /tmp/regen.err /tmp/regen.out; } |
    sed -E 's/^(\[[A-Z]+\] +)\([0-9]+\)/\1(PID)/' > "examples/expected/$name.txt"
done
