#!/bin/sh
# The seed's demo: two sample logs replayed as two streams, in 3 chunks each,
# against the sample rules; per-round matches and memory, then the final
# per-stream statistics.
set -eu
cd "$(dirname "$0")/.."
[ -x build/yarasnoop ] || make
exec build/yarasnoop replay -r tests/data/test_multi_stream.yar \
	-i tests/data/test_input1.log tests/data/test_input2.log -c "${1:-3}"
