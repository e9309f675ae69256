// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"
#include "privs.h"
#include "targets.h"
#include "util.h"

int ys_target_tgid(uint32_t pid, uint32_t *tgid)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %u", tgid) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	return found ? 0 : -ESRCH;
}

const char *ys_proc_comm(uint32_t pid, char *buf, size_t len)
{
	char p[64];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/comm", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	buf[0] = 0;
	if (fd < 0)
		return buf;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return buf;
}

static bool proc_alive(uint32_t pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static bool comm_listed(const struct ys_capture_opts *co, const char *comm)
{
	for (uint32_t i = 0; i < co->ncomms; i++)
		if (!strcmp(comm, co->comms[i]))
			return true;
	return false;
}

/* -C: processes already running when we start, by their leader's name
 * (the kernel side sees later execs and renames). -u and --cgroup need no
 * list: the kernel side asks them at every write. */
static int add_existing(struct ys_live *L)
{
	const struct ys_capture_opts *co = &L->cfg.copts;
	struct dirent *de;
	DIR *d = opendir("/proc");
	char comm[64];

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (ys_parse_u64(de->d_name, &pid) || pid == (uint64_t)getpid())
			continue;
		if (!comm_listed(co, ys_proc_comm((uint32_t)pid, comm, sizeof(comm))))
			continue;
		if (!ys_capture_trace_pid(L->cap, (uint32_t)pid, L->cfg.follow, YS_WHY_COMM))
			ys_routes_at_attach(&L->routes, (uint32_t)pid);
	}
	closedir(d);
	return 0;
}

int ys_targets_add(struct ys_live *L)
{
	const struct ys_config *c = &L->cfg;
	size_t alive = 0;
	int err;

	for (size_t i = 0; i < c->npids; i++) {
		err = ys_capture_trace_pid(L->cap, c->pids[i], c->follow, YS_WHY_PID);
		if (err) {
			ys_err("cannot trace process %u: %s", c->pids[i], strerror(-err));
			return err;
		}
		ys_routes_at_attach(&L->routes, c->pids[i]);
	}
	/* a process that exited while we attached never sends its exit */
	for (size_t i = 0; i < c->npids; i++) {
		if (proc_alive(c->pids[i]))
			alive++;
		else
			ys_note("process %u exited while yarasnoop attached", c->pids[i]);
	}
	if (c->npids && !alive) {
		ys_err("none of the processes given to -p is still running");
		return -ESRCH;
	}
	if (c->copts.ncomms)
		return add_existing(L);
	return 0;
}

/* Why the child did not get to run the command, sent up the error pipe. */
struct child_failure {
	int stage;		/* 0: exec, 1: --user */
	int err;		/* errno */
};

static void child_fail(int fd, int stage, int err)
{
	struct child_failure f = { stage, err };

	if (write(fd, &f, sizeof(f)) < 0)
		_exit(YS_EXIT_EXEC);
	_exit(YS_EXIT_EXEC);
}

/* After fork: nothing but system calls (the parent may have threads), the
 * command's own signal state, its user, then it waits for the go. */
static void child(struct ys_live *L, pid_t parent, int go, int ep)
{
	const struct ys_run_as *u = &L->cfg.run_as;
	char **cmd = L->cfg.command;
	sigset_t none;
	char c;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	ys_harden_undo_in_child();
	if (u->set && ys_run_as_become(u))
		child_fail(ep, 1, errno);
	/* after the credentials change, which clears it: a command must not
	 * outlive a yarasnoop killed with SIGKILL, unwatched */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != parent)
		_exit(YS_EXIT_EXEC);
	if (read(go, &c, 1) != 1)
		_exit(YS_EXIT_EXEC);
	if (u->set)
		execvpe(cmd[0], cmd, u->envp);
	else
		execvp(cmd[0], cmd);
	child_fail(ep, 0, errno);
}

/* The command starts stopped on a pipe until its pid is in the traced map
 * and our maps are sealed (ys_targets_release), so that we see it from its
 * first instruction and it never finds our maps open to change. */
int ys_targets_spawn(struct ys_live *L)
{
	pid_t parent = getpid();
	int go[2], ep[2], e = 0;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ep, O_CLOEXEC)) {
		e = -errno;
		close(go[0]);
		close(go[1]);
		return e;
	}
	L->child = fork();
	if (L->child < 0) {
		e = -errno;
		close(go[0]);
		close(go[1]);
		close(ep[0]);
		close(ep[1]);
		return e;
	}
	if (L->child == 0) {
		close(go[1]);
		close(ep[0]);
		child(L, parent, go[0], ep[1]);
	}
	close(go[0]);
	close(ep[1]);
	L->child_go = go[1];
	L->child_err = ep[0];
	e = ys_capture_trace_pid(L->cap, (uint32_t)L->child, true, YS_WHY_CMD);
	if (e)
		ys_err("cannot trace the command's process %d: %s", L->child, strerror(-e));
	else if (L->lossless && (e = ys_cgroup_add(&L->cg, L->child)))
		ys_err("cannot move the command into %s: %s", L->cg.path, strerror(-e));
	if (e)
		ys_targets_abandon(L);
	return e;
}

void ys_targets_abandon(struct ys_live *L)
{
	if (L->child_go < 0)
		return;
	close(L->child_go);
	close(L->child_err);
	L->child_go = L->child_err = -1;
	waitpid(L->child, NULL, 0);
	L->child = -1;
}

int ys_targets_release(struct ys_live *L)
{
	char **cmd = L->cfg.command;
	struct child_failure f;
	ssize_t n;

	if (L->child_go < 0)
		return 0;
	n = write(L->child_go, "g", 1);
	close(L->child_go);
	L->child_go = -1;
	n = n == 1 ? read(L->child_err, &f, sizeof(f)) : -1;
	close(L->child_err);
	L->child_err = -1;
	if (n != 0) {
		if (n == sizeof(f) && f.stage == 1)
			ys_err("cannot run %s as user %s: %s", cmd[0], L->cfg.user, strerror(f.err));
		else
			ys_err("cannot execute %s: %s", cmd[0], n == sizeof(f) ? strerror(f.err) : "failed to start");
		waitpid(L->child, NULL, 0);
		L->child = -1;
		return -ENOEXEC;
	}
	return 0;
}

void ys_targets_kill_command(struct ys_live *L)
{
	int status;

	if (L->child <= 0 || L->child_done)
		return;
	kill(L->child, SIGKILL);
	if (waitpid(L->child, &status, 0) == L->child) {
		L->child_status = status;
		L->child_done = true;
	}
}
