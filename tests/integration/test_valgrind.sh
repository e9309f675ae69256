#!/usr/bin/env bash
# replay under valgrind: no invalid access, no leak, on the sample logs and
# the differential rules (regex, hex jumps, fullword windows).
. "$(dirname "$0")/../lib.sh"
if ! command -v valgrind >/dev/null; then skip "valgrind is not installed"; echo "1..$_n"; exit 0; fi
if [[ $YARASNOOP == */san/* ]]; then skip "valgrind and ASan do not mix"; echo "1..$_n"; exit 0; fi
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
expect_exit "replay of the sample logs, valgrind clean" 0 "${VG[@]}" "$YARASNOOP" replay \
	-r "$TESTDATA/test_multi_stream.yar" -i "$TESTDATA/test_input1.log" "$TESTDATA/test_input2.log" -c 3
expect_exit "replay with the bundled rules in 7-byte chunks, JSON, valgrind clean" 0 "${VG[@]}" "$YARASNOOP" replay \
	--format json --chunk-size 7 -i "$TESTDATA/demo_session.log" "$TESTDATA/test_input1.log"
expect_exit "replay with the differential rules, valgrind clean" 0 "${VG[@]}" "$YARASNOOP" replay \
	-r "$TESTDATA/diff.yar" --chunk-size 13 -i "$TESTDATA/demo_session.log"
expect_exit "replay of a bad rule file, valgrind clean" 2 "${VG[@]}" "$YARASNOOP" replay \
	-r "$TESTDATA/../../README.md" -i "$TESTDATA/test_input1.log"
echo "1..$_n"
