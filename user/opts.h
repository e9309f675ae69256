/* SPDX-License-Identifier: MIT */
/* The command line of every yarasnoop command, from one option table: one
 * parser per kind of value, one usage text, one error form. */
#ifndef YS_OPTS_H
#define YS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "control.h"
#include "output.h"
#include "privs.h"
#include "rules.h"
#include "scan.h"

enum ys_cmd {
	YS_CMD_LIVE = 1 << 0,
	YS_CMD_REPLAY = 1 << 1,
	YS_CMD_STATS = 1 << 2,
};

/* Kinds of target of the live command; exactly one is given. */
enum ys_target {
	YS_TARGET_PID = 1 << 0,
	YS_TARGET_COMM = 1 << 1,
	YS_TARGET_UID = 1 << 2,
	YS_TARGET_ALL = 1 << 3,
	YS_TARGET_CMD = 1 << 4,
	YS_TARGET_CGROUP = 1 << 5,
};

enum ys_tristate { YS_AUTO, YS_ON, YS_OFF };

/* Everything the command line sets, for every command. */
struct ys_config {
	enum ys_cmd cmd;
	int verbose;			/* -v, counted */

	/* scanning (live and replay) */
	const char **rules;		/* -r, in order */
	size_t nrules;
	struct ys_rules_opts ropts;
	struct ys_engine_opts eopts;

	/* output (every command) */
	const char *output;		/* -o; NULL or "-": stdout */
	bool append;			/* --append: -o FILE is not truncated */
	enum ys_format format;
	bool show_strings;

	/* live */
	unsigned targets;		/* enum ys_target bits seen */
	uint32_t *pids;			/* -p, as tgids */
	size_t npids;
	char **command;			/* after --: argv of the command to run */
	const char *user;		/* --user: the command runs as USER */
	struct ys_run_as run_as;
	bool follow;
	char *cgroup_path;		/* --cgroup, resolved */
	struct ys_capture_opts copts;
	bool fail_on_match;
	bool allow_incomplete;		/* a partial scan does not fail the gate */
	enum ys_tristate lossless;	/* --lossless / --no-lossless */
	uint64_t workers;		/* 0: one per CPU, up to 8 */
	uint64_t max_streams;
	uint64_t max_memory;
	uint64_t reorder;		/* --reorder: bytes a stream may hold out of order; 0: from the rules */
	bool stream_by_file;		/* --stream-by file */
	uint64_t stats_interval_ns;
	const char *control_path;
	bool control_explicit;		/* --control given: a taken socket is an error */
	bool no_control;
	bool quiet;			/* -q */
	uint64_t top;			/* live: streams in the summary; stats: streams listed (0: all) */
	enum ys_sort sort;		/* stats: order of the streams listed */
	bool tls_on, tls_off;		/* --tls, --no-tls */

	/* replay */
	const char **inputs;		/* -i and the operands */
	size_t ninputs;
	uint64_t chunks;
	uint64_t chunk_size;
	uint64_t jobs;			/* --jobs; 0: one per CPU, up to YS_THREADS_DEFAULT_MAX */
};

/* Defaults of cmd, then argv. Returns 0; 1 when --help or --version was
 * printed (exit 0); or -EINVAL (or -ESRCH for a -p that names no process)
 * after one line on stderr naming the option at fault. */
int ys_opts_parse(struct ys_config *c, enum ys_cmd cmd, int argc, char **argv);
void ys_opts_usage(FILE *f, enum ys_cmd cmd);
void ys_config_free(struct ys_config *c);
/* Without -r: the bundled rules (buf holds their directory). -ENOENT after
 * one line if they are not there. */
int ys_config_default_rules(struct ys_config *c, char *buf, size_t len);

/* "invalid value 'VAL' for OPT: WANT"; returns -EINVAL. */
int ys_opts_bad_value(const char *opt, const char *val, const char *want);

#endif
