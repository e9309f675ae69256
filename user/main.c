// SPDX-License-Identifier: MIT
#include <string.h>

#include "control.h"
#include "live.h"
#include "replay.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return ys_replay_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "stats"))
		return ys_stats_main(argc - 1, argv + 1);
	return ys_live_main(argc, argv);
}
