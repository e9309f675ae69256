// SPDX-License-Identifier: MIT
/* yarasnoop's live command: set-up, then one event loop over the ring
 * buffer, signals, a timer and the control socket; records go to the
 * stream handlers (events.c), statistics and the summary to report.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "live.h"
#include "privs.h"
#include "report.h"
#include "targets.h"
#include "util.h"

#define TICK_NS (10 * 1000000ull)	/* how often the ring is drained */

/* ---- records ---- */

static int on_open(void *arg, const struct ys_rec_open *o)
{
	struct ys_live *L = arg;

	return ys_ev_open(&L->shard, o);
}

static int on_write(void *arg, const struct ys_rec_write *w, const uint8_t *data)
{
	struct ys_live *L = arg;

	return ys_ev_write(&L->shard, w, data);
}

static int on_close(void *arg, const struct ys_rec_close *c)
{
	struct ys_live *L = arg;

	return ys_ev_close(&L->shard, c);
}

static int on_exit_rec(void *arg, const struct ys_rec_exit *x)
{
	struct ys_live *L = arg;
	struct ys_map_counts mc;

	ys_dbg("process %u exited", x->tgid);
	/* -p: when every traced process is gone, so is our work */
	if (L->cfg.npids && !L->cfg.command && !ys_capture_map_counts(L->cap, &mc) && !mc.traced)
		L->targets_gone = true;
	return 0;
}

/* ---- the loop ---- */

static int drain(struct ys_live *L)
{
	int n;

	do {
		n = ys_capture_consume(L->cap);
	} while (n > 0);
	return n < 0 ? n : 0;
}

static void on_signal(struct ys_live *L)
{
	struct signalfd_siginfo si;
	int status;

	while (read(L->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
		case SIGHUP:
			/* with a command: pass it on and wait for it to go */
			if (L->child > 0 && !L->child_done)
				kill(L->child, (int)si.ssi_signo);
			else
				L->stop = true;
			break;
		case SIGCHLD:
			if (L->child > 0 && !L->child_done && waitpid(L->child, &status, WNOHANG) == L->child) {
				L->child_status = status;
				L->child_done = true;
			}
			break;
		case SIGUSR1:
			ys_report_stats_to(L, stderr);
			break;
		}
	}
}

static int run_loop(struct ys_live *L)
{
	struct epoll_event ev[8];
	uint64_t ticks;
	int n, err;

	while (!L->stop && !L->child_done && !L->targets_gone) {
		n = epoll_wait(L->epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == L->sigfd)
				on_signal(L);
			else if (fd == L->timerfd && read(L->timerfd, &ticks, sizeof(ticks)) < 0)
				(void)ticks;
			else if (L->ctl && fd == ys_control_fd(L->ctl))
				ys_control_accept(L->ctl);
			else if (L->ctl && ys_control_owns(L->ctl, fd))
				ys_control_handle(L->ctl, fd);
		}
		err = drain(L);
		if (!err)
			err = ys_engine_flush_due(&L->shard.engine, ys_now_ns());
		if (err)
			return err;
		ys_report_periodic(L, ys_now_ns());
		if (L->ctl)
			ys_control_tick(L->ctl, ys_now_ns());
		if (L->out.err)
			return L->out.err;
	}
	return 0;
}

/* ---- set-up ---- */

static int setup_fds(struct ys_live *L)
{
	struct itimerspec its = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	L->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	L->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L->sigfd < 0 || L->timerfd < 0 || L->epfd < 0)
		return -errno;
	if (timerfd_settime(L->timerfd, 0, &its, NULL))
		return -errno;
	ev.data.fd = L->sigfd;
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->sigfd, &ev))
		return -errno;
	ev.data.fd = L->timerfd;
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->timerfd, &ev))
		return -errno;
	ev.data.fd = ys_capture_ring_fd(L->cap);
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

static int open_output(struct ys_live *L)
{
	L->outf = stdout;
	if (L->cfg.output) {
		L->outf = fopen(L->cfg.output, "we");
		if (!L->outf) {
			ys_err("output file %s: %s", L->cfg.output, strerror(errno));
			return -EINVAL;
		}
	}
	ys_out_init(&L->out, L->outf, L->cfg.format);
	L->out.show_strings = L->cfg.show_strings;
	L->out.flush_each = true;
	return 0;
}

static int open_control(struct ys_live *L)
{
	struct ys_control_ops cops = { .stats_json = ys_report_stats_json,
				       .stats_text = ys_report_stats_text, .arg = L };
	int err;

	if (L->cfg.no_control)
		return 0;
	err = ys_control_open(L->cfg.control_path, &cops, L->epfd, &L->ctl);
	/* the default socket taken by another instance: run without one */
	if (err && L->cfg.control_explicit)
		return -EINVAL;
	if (err)
		ys_err("running without a control socket: 'yarasnoop stats' cannot reach this instance");
	return 0;
}

/* The one mapping from an error to the exit status; then the run's own.
 * Errors while running (after set-up) are always run-time failures. */
static int exit_code(const struct ys_live *L, int err, bool running)
{
	if (err && running)
		return YS_EXIT_RUNTIME;
	switch (err) {
	case 0:
		break;
	case -EINVAL:
	case -ENOENT:
	case -ENODATA:
	case -EACCES:
	case -ESRCH:
		return YS_EXIT_USAGE;
	case -EPERM:
	case -ENOTSUP:
		return YS_EXIT_ENV;
	case -ENOEXEC:
		return YS_EXIT_EXEC;
	default:
		return YS_EXIT_RUNTIME;
	}
	if (L->cfg.fail_on_match && L->shard.rules_reported)
		return YS_EXIT_MATCH;
	if (L->child > 0 && L->child_done) {
		if (WIFEXITED(L->child_status))
			return WEXITSTATUS(L->child_status);
		if (WIFSIGNALED(L->child_status))
			return 128 + WTERMSIG(L->child_status);
	}
	return YS_EXIT_OK;
}

static void live_cleanup(struct ys_live *L)
{
	if (L->ctl)
		ys_control_close(L->ctl);
	if (L->epfd >= 0)
		close(L->epfd);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->timerfd >= 0)
		close(L->timerfd);
	ys_shard_fini(&L->shard);
	ys_capture_close(L->cap);
	ys_rules_free(L->rules);
	ys_out_fini(&L->out);
	if (L->outf && L->outf != stdout)
		fclose(L->outf);
	ys_config_free(&L->cfg);
}

/* Runs until the command ends, the targets are gone or a signal stops us;
 * then drains every record and ends every stream. */
static int run(struct ys_live *L)
{
	int err;

	L->next_stats_ns = ys_now_ns() + L->cfg.stats_interval_ns;
	err = run_loop(L);
	if (!err)
		err = drain(L);
	if (!err)
		err = ys_ev_shutdown(&L->shard);
	else
		ys_ev_shutdown(&L->shard);
	ys_report_summary(L);
	if (L->out.err || (L->outf && fflush(L->outf))) {
		int e = L->out.err ? -L->out.err : errno;

		ys_err("writing %s failed: %s", L->cfg.output ? L->cfg.output : "standard output",
		       strerror(e));
		err = -EIO;
	}
	if (L->child > 0 && !L->child_done) {
		int status;

		kill(L->child, SIGTERM);
		if (waitpid(L->child, &status, 0) == L->child) {
			L->child_status = status;
			L->child_done = true;
		}
	}
	return err;
}

int ys_live_main(int argc, char **argv)
{
	struct ys_record_ops ops = { .on_write = on_write, .on_open = on_open,
				     .on_close = on_close, .on_exit = on_exit_rec };
	struct ys_live L = { .epfd = -1, .sigfd = -1, .timerfd = -1, .child = -1 };
	char defrules[PATH_MAX];
	bool yara = false, running = false;
	int err;

	ys_harden_early();
	signal(SIGPIPE, SIG_IGN);	/* a closed output pipe is an error to report, not a death */
	ys_idmap_init(&L.shard.tombs);
	err = ys_opts_parse(&L.cfg, YS_CMD_LIVE, argc, argv);
	if (err > 0) {
		err = 0;
		goto cleanup;
	}
	if (!err && !L.cfg.nrules)
		err = ys_config_default_rules(&L.cfg, defrules, sizeof(defrules));
	if (err)
		goto cleanup;
	err = ys_yara_init();
	if (err)
		goto cleanup;
	yara = true;
	err = ys_rules_load(L.cfg.rules, L.cfg.nrules, &L.cfg.ropts, &L.rules);
	if (err)
		goto cleanup;
	err = ys_check_privileges();
	if (!err)
		err = ys_check_btf();
	if (!err)
		err = open_output(&L);
	if (err)
		goto cleanup;
	err = ys_shard_init(&L.shard, &L);
	if (err) {
		ys_err("cannot set up the stream table: %s", strerror(-err));
		running = true;
		goto cleanup;
	}
	ops.arg = &L;
	err = ys_capture_open(&L.cfg.copts, &ops, &L.cap);
	if (err)
		goto cleanup;	/* it said why: privileges, kernel */
	err = setup_fds(&L);
	if (err) {
		ys_err("cannot set up the event loop: %s", strerror(-err));
		running = true;
		goto cleanup;
	}
	err = open_control(&L);
	if (!err)
		err = L.cfg.command ? ys_targets_spawn(&L) : ys_targets_add(&L);
	if (err)
		goto cleanup;
	/* from here on we only read the ring buffer and our maps */
	ys_drop_capabilities();
	running = true;
	err = run(&L);
cleanup:
	live_cleanup(&L);
	if (yara)
		ys_yara_fini();
	return exit_code(&L, err, running);
}
