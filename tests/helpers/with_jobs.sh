#!/bin/sh
# with_jobs.sh: yarasnoop with `replay --jobs $REPLAY_JOBS`, for suites
# that run $YARASNOOP replay: YARASNOOP=with_jobs.sh REAL_YARASNOOP=...
if [ "$1" = replay ]; then
	shift
	exec "$REAL_YARASNOOP" replay --jobs "$REPLAY_JOBS" "$@"
fi
exec "$REAL_YARASNOOP" "$@"
