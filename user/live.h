/* SPDX-License-Identifier: MIT */
#ifndef YS_LIVE_H
#define YS_LIVE_H

int ys_live_main(int argc, char **argv);

#endif
