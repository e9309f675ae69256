/* SPDX-License-Identifier: MIT */
#ifndef YS_REPLAY_H
#define YS_REPLAY_H

int ys_replay_main(int argc, char **argv);

#endif
