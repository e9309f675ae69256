/* SPDX-License-Identifier: MIT */
/* What one scan concludes; the engine's (scan.c) other half. */
#ifndef YS_DECIDE_H
#define YS_DECIDE_H

#include "scan.h"

enum ys_scan_mode {
	YS_SCAN_WINDOW,	/* a window: counts [lo, hi), reports trusted window-exact rules */
	YS_SCAN_EDGE,	/* bytes before a gap, or late bytes: counts what it saw whole */
	YS_SCAN_FINAL,	/* a stream's last window: also decides what it can of the rest */
	YS_SCAN_WHOLE,	/* a whole stream: decides every rule, recounts every string */
};

/* At CALLBACK_MSG_SCAN_FINISHED of the scan e->cur, e->mode, ... */
int ys_decide_scan(struct ys_engine *e, YR_SCAN_CONTEXT *ctx);

#endif
