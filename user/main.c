// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "replay.h"
#include "util.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return ys_replay_main(argc - 1, argv + 1);
	ys_err("live capture is not built yet; try: yarasnoop replay --help");
	return YS_EXIT_USAGE;
}
