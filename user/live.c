// SPDX-License-Identifier: MIT
/* yarasnoop's live command: set-up, then one event loop over the ring
 * buffer, signals, a timer and the control socket; records go to the
 * stream handlers (events.c), statistics and the summary to report.c. */
#include <errno.h>
#include <linux/capability.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deferred_close.h"
#include "events.h"
#include "live.h"
#include "outfile.h"
#include "privs.h"
#include "reload.h"
#include "report.h"
#include "seccomp.h"
#include "targets.h"
#include "tls.h"
#include "util.h"
#include "workers.h"

#define TICK_NS (100 * 1000000ull)	/* statistics, control-socket timeouts */

/* ---- the loop ---- */

static void on_signal(struct ys_live *L)
{
	struct signalfd_siginfo si;
	int status;

	while (read(L->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			/* logrotate's postrotate, or new rules: never an end */
			L->hup = true;
			break;
		case SIGINT:
		case SIGTERM:
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

/* The first error of a thread: the drain, a worker, the output. */
static int thread_error(struct ys_live *L)
{
	int err = atomic_load(&L->drain.err);

	for (unsigned i = 0; !err && i < L->nworkers; i++)
		err = atomic_load(&L->workers[i].err);
	if (!err)
		err = atomic_load(&L->writer.err);
	return err;
}

/* SIGHUP: the output file again (logrotate), then the rules. A reload
 * still under way takes the new one when it is done. */
static void on_hup(struct ys_live *L)
{
	FILE *f = NULL;

	if (!ys_outfile_reopen(&L->outfile, &f) && f && ys_writer_switch(&L->writer, f))
		fclose(f);
	if (ys_live_reload_busy(L))
		return;
	L->hup = false;
	ys_live_reload(L);
}

static int run_loop(struct ys_live *L)
{
	struct epoll_event ev[8];
	uint64_t v;
	int n, err;

	while (!L->stop && !L->child_done && !atomic_load(&L->drain.targets_gone)) {
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
			else if ((fd == L->timerfd || fd == L->wakefd) && read(fd, &v, sizeof(v)) < 0)
				(void)v;
			else if (L->ctl && fd == ys_control_fd(L->ctl))
				ys_control_accept(L->ctl);
			else if (L->ctl && ys_control_owns(L->ctl, fd))
				ys_control_handle(L->ctl, fd);
		}
		err = thread_error(L);
		if (err)
			return err;
		ys_live_reload_poll(L);
		if (L->hup)
			on_hup(L);
		ys_report_periodic(L, ys_now_ns());
		ys_loss_tick(L, ys_now_ns());
		if (L->ctl)
			ys_control_tick(L->ctl, ys_now_ns());
	}
	return 0;
}

/* ---- set-up ---- */

/* The signals the main loop takes through its signalfd. */
static void signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGUSR1);
}

static int setup_fds(struct ys_live *L)
{
	struct itimerspec its = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	signal_mask(&mask);
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
	ev.data.fd = L->wakefd;
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->wakefd, &ev))
		return -errno;
	return 0;
}

/* Lossless mode (on with --fail-on-match unless --no-lossless): the command
 * runs in a cgroup of its own, frozen while the capture catches up. */
static int setup_lossless(struct ys_live *L)
{
	const struct ys_config *c = &L->cfg;
	int err;

	L->lossless = c->lossless == YS_ON || (c->lossless == YS_AUTO && c->fail_on_match && c->command);
	if (!L->lossless)
		return 0;
	if (!c->command) {
		ys_err("--lossless holds back the command yarasnoop runs: it needs -- COMMAND");
		return -EINVAL;
	}
	err = ys_cgroup_create(&L->cg);
	if (err)
		return err;
	L->cfg.copts.lossless = true;
	L->cfg.copts.hold_cgroup = L->cg.path;
	return 0;
}

static int open_output(struct ys_live *L)
{
	int err = ys_outfile_open(&L->outfile, L->cfg.output, L->cfg.append);

	if (err)
		return err;
	L->outf = L->outfile.f;
	ys_out_init(&L->out, L->outf, L->cfg.format);
	L->out.show_strings = L->cfg.show_strings;
	L->out.w = &L->writer;
	ys_routes_bind(&L->routes, L->outf, L->cfg.format, &L->writer);
	/* lossless: a slow reader holds the writers back too, never drops */
	return ys_writer_start(&L->writer, L->outf, YS_WRITER_QUEUE, L->lossless);
}

static int open_control(struct ys_live *L)
{
	struct ys_control_ops cops = { .stats = ys_report_stats, .arg = L };
	int err;

	if (L->cfg.no_control)
		return 0;
	err = ys_control_open(L->cfg.control_path, &cops, L->epfd, &L->ctl);
	/* the default socket taken by another instance: run without one */
	if (err && L->cfg.control_explicit)
		return -EINVAL;
	if (err)
		ys_note("running without a control socket: 'yarasnoop stats' cannot reach this instance");
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
	/* a match wins; then a gate fails closed on a partial scan */
	if (L->cfg.fail_on_match && L->matches)
		return YS_EXIT_MATCH;
	if (L->cfg.fail_on_match && L->incomplete && !L->cfg.allow_incomplete)
		return YS_EXIT_INCOMPLETE;
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
	ys_targets_abandon(L);
	if (L->ctl)
		ys_control_close(L->ctl);
	if (L->epfd >= 0)
		close(L->epfd);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->timerfd >= 0)
		close(L->timerfd);
	ys_drain_stop(L);
	ys_workers_fini(L);
	ys_drain_fini(L);
	ys_writer_stop(&L->writer);
	if (L->wakefd >= 0)
		close(L->wakefd);
	ys_tls_close(L->tls);
	ys_routes_fini(&L->routes);
	ys_capture_close(L->cap);
	ys_cgroup_destroy(&L->cg);
	ys_rules_free(L->rules);
	ys_rules_free(L->rules_next);
	ys_rules_free(L->rules_failed);
	ys_out_fini(&L->out);
	/* the file the output thread wrote last (SIGHUP may have changed it) */
	if (L->writer.f)
		L->outfile.f = L->writer.f;
	ys_outfile_close(&L->outfile);
	ys_config_free(&L->cfg);
}

/* Runs until the command ends, the targets are gone or a signal stops us;
 * then the drain thread hands every record on, the workers end every
 * stream, and the output thread writes the rest. */
static int run(struct ys_live *L)
{
	int err, e;

	L->next_stats_ns = ys_now_ns() + L->cfg.stats_interval_ns;
	err = run_loop(L);
	/* stopping before the command ended: it must not go on unwatched */
	if (err)
		ys_targets_kill_command(L);
	if (!err && atomic_load(&L->drain.targets_gone))
		ys_note("stopping: every traced process has exited (-p%s; the last was %u)",
		       L->cfg.follow ? " -f: the processes and their descendants" : "",
		       atomic_load(&L->drain.last_exit));
	e = ys_drain_stop(L);
	if (!err)
		err = e;
	ys_workers_join(L);
	if (!err)
		err = thread_error(L);
	L->matches = ys_report_matches(L);
	ys_report_summary(L);
	e = ys_writer_stop(&L->writer);
	if (e) {
		ys_err("writing %s failed: %s", ys_outfile_name(&L->outfile), strerror(-e));
		err = -EIO;
	} else if (err) {
		ys_err("%s", strerror(-err));
	}
	ys_targets_kill_command(L);
	return err;
}

/* The links' last close goes to a child, after our exit. */
static void hold_links(struct ys_live *L)
{
	int fds[16];

	ys_capture_hold_links(L->cap, fds, ys_tls_link_fds(L->tls, fds, ARRAY_SIZE(fds)));
}

int ys_live_main(int argc, char **argv)
{
	struct ys_live L = { .epfd = -1, .sigfd = -1, .timerfd = -1, .wakefd = -1, .child = -1,
			     .child_go = -1, .child_err = -1,
			     .cg = { .freeze_fd = -1 } };
	struct ys_record_ops ops;
	char defrules[PATH_MAX];
	bool yara = false, running = false;
	int err, paused = -1;

	sigset_t mask;

	ys_harden_early();
	/* a closed output pipe or a file-size limit is an error to report, not a death */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* blocked before any thread starts, so that every thread keeps them
	 * blocked: they reach the main loop through its signalfd only */
	signal_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ys_routes_init(&L.routes);
	err = ys_opts_parse(&L.cfg, YS_CMD_LIVE, argc, argv);
	if (err > 0) {
		err = 0;
		goto cleanup;
	}
	if (!err && !L.cfg.nrules)
		err = ys_config_default_rules(&L.cfg, defrules, sizeof(defrules));
	if (err)
		goto cleanup;
	/* the kernel's BTF is read and cut while the rules compile */
	if (L.cfg.copts.tls)
		L.cfg.copts.btf_elf = ys_tls_elf(&L.cfg.copts.btf_elf_size);
	err = ys_capture_begin(&L.cfg.copts, &L.cap);
	if (err)
		goto cleanup;
	err = ys_yara_init();
	if (err)
		goto cleanup;
	yara = true;
	err = ys_rules_load(L.cfg.rules, L.cfg.nrules, &L.cfg.ropts, &L.rules);
	if (err)
		goto cleanup;
	if (ys_verbose)
		ys_rules_describe(L.rules);
	err = ys_check_privileges();
	if (!err)
		err = ys_check_btf();
	if (!err)
		err = setup_lossless(&L);
	if (!err)
		err = open_output(&L);
	if (err)
		goto cleanup;
	L.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (L.wakefd < 0) {
		err = -errno;
		running = true;
		goto cleanup;
	}
	err = ys_workers_start(&L, L.cfg.workers ? (unsigned)L.cfg.workers : ys_default_threads());
	if (err) {
		ys_err("cannot start the scan workers: %s", strerror(-err));
		running = true;
		goto cleanup;
	}
	if (ys_verbose)
		ys_err("scan workers: %u, a queue of %zu MiB each", L.nworkers,
		       L.workers[0].q.cap >> 20);
	ys_drain_init(&L, &ops);
	/* the TLS programs load while the main ones do, on other threads */
	err = ys_capture_open(&L.cfg.copts, &ops, &L.cap);
	if (!err)
		paused = ys_release_pause();
	if (!err && L.cfg.copts.tls) {
		err = ys_tls_open(L.cap, &L.cfg.copts, &L.tls);
		/* on by default, not asked for: say what is not seen, go on */
		if (err && !L.cfg.copts.tls_required) {
			ys_err("warning: TLS plaintext is not seen (the uprobes could not be attached); --no-tls silences this");
			err = 0;
		}
	}
	if (!err)
		err = ys_capture_attach(L.cap);
	ys_release_resume(paused);
	if (err)
		goto cleanup;	/* it said why: privileges, kernel */
	hold_links(&L);
	L.start_ns = ys_now_ns();
	err = setup_fds(&L);
	if (err) {
		ys_err("cannot set up the event loop: %s", strerror(-err));
		running = true;
		goto cleanup;
	}
	err = open_control(&L);
	if (!err)
		err = L.cfg.command ? ys_targets_spawn(&L) : ys_targets_add(&L);
	/* the targets are in: from here on only the BPF side changes our
	 * maps, and then the command may run */
	if (!err)
		err = ys_capture_seal(L.cap);
	if (err)
		goto cleanup;
	/* The ring is read before the command runs: a writer that fills it
	 * before the drain thread is scheduled loses bytes, and a lossless
	 * command would be frozen too late. */
	err = ys_drain_start(&L);
	if (err) {
		ys_err("cannot start the drain thread: %s", strerror(-err));
		running = true;
		goto cleanup;
	}
	/* the other threads drop their capabilities as they start: all of
	 * them have before the command runs and before the seccomp filter,
	 * which forbids capset */
	ys_thread_drops_wait();
	err = ys_targets_release(&L);
	if (err)
		goto cleanup;
	/* from here on we only read the ring buffer and our maps */
	if (!ys_drop_capabilities("main thread", L.cfg.run_as.set ? 1ull << CAP_KILL : 0))
		ys_dbg("dropped every capability%s", L.cfg.run_as.set ? " but CAP_KILL (--user)" : "");
	ys_seccomp_apply(L.child);
	running = true;
	err = run(&L);
cleanup:
	live_cleanup(&L);
	if (yara)
		ys_yara_fini();
	return exit_code(&L, err, running);
}
