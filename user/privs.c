// SPDX-License-Identifier: MIT
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"
#include "util.h"

static struct rlimit core_before;
static bool core_saved;

void ys_harden_early(void)
{
	struct rlimit no_core;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	core_saved = !getrlimit(RLIMIT_CORE, &core_before);
	/* the soft limit only, so that the command gets its own back (a hard
	 * limit cannot be raised again without CAP_SYS_RESOURCE); a process
	 * that is not dumpable dumps no core anyway */
	no_core = (struct rlimit){ 0, core_saved ? core_before.rlim_max : 0 };
	setrlimit(RLIMIT_CORE, &no_core);
}

void ys_harden_undo_in_child(void)
{
	if (core_saved)
		setrlimit(RLIMIT_CORE, &core_before);
}

/* environ with NAME=value put in place of any NAME=... */
static int env_set(char ***envp, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name);
	char *kv, **e;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (!strncmp((*envp)[i], name, len) && (*envp)[i][len] == '=') {
			free((*envp)[i]);
			(*envp)[i] = kv;
			return 0;
		}
	}
	e = realloc(*envp, (*n + 2) * sizeof(*e));
	if (!e) {
		free(kv);
		return -ENOMEM;
	}
	e[(*n)++] = kv;
	e[*n] = NULL;
	*envp = e;
	return 0;
}

int ys_run_as_resolve(struct ys_run_as *u, const char *name)
{
	extern char **environ;
	struct passwd *pw = getpwnam(name);
	size_t n = 0;
	uint64_t v;
	int err = -ENOMEM;

	memset(u, 0, sizeof(*u));
	if (!pw && !ys_parse_u64(name, &v) && v < UINT32_MAX)
		pw = getpwuid((uid_t)v);
	if (!pw)
		return -EINVAL;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->ngroups = 16;
	for (;;) {
		int want = u->ngroups;
		gid_t *g = realloc(u->groups, (size_t)want * sizeof(*g));

		if (!g)
			goto fail;
		u->groups = g;
		if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &u->ngroups) >= 0)
			break;
		if (u->ngroups <= want)
			u->ngroups = want * 2;
	}
	for (char **e = environ; *e; e++)
		n++;
	u->envp = calloc(n + 1, sizeof(*u->envp));
	if (!u->envp)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!(u->envp[i] = strdup(environ[i])))
			goto fail;
	if (env_set(&u->envp, &n, "USER", pw->pw_name) || env_set(&u->envp, &n, "LOGNAME", pw->pw_name) ||
	    env_set(&u->envp, &n, "HOME", pw->pw_dir))
		goto fail;
	u->set = true;
	return 0;
fail:
	ys_run_as_free(u);
	return err;
}

void ys_run_as_free(struct ys_run_as *u)
{
	for (size_t i = 0; u->envp && u->envp[i]; i++)
		free(u->envp[i]);
	free(u->envp);
	free(u->groups);
	memset(u, 0, sizeof(*u));
}

int ys_run_as_become(const struct ys_run_as *u)
{
	if (setgroups((size_t)u->ngroups, u->groups) || setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return -errno;
	/* root must be gone for good, not only from the effective ids */
	if (u->uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

static pthread_mutex_t drops_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drops_done = PTHREAD_COND_INITIALIZER;
static int drops_pending;

static void drops_add(int n)
{
	pthread_mutex_lock(&drops_lock);
	drops_pending += n;
	if (!drops_pending)
		pthread_cond_broadcast(&drops_done);
	pthread_mutex_unlock(&drops_lock);
}

int ys_thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	int err;

	/* counted before it exists, so that a wait cannot miss it */
	drops_add(1);
	err = pthread_create(t, attr, fn, arg);
	if (err)
		drops_add(-1);
	return -err;
}

int ys_thread_drop(const char *who, uint64_t keep)
{
	int err = ys_drop_capabilities(who, keep);

	drops_add(-1);
	return err;
}

void ys_thread_drops_wait(void)
{
	pthread_mutex_lock(&drops_lock);
	while (drops_pending > 0)
		pthread_cond_wait(&drops_done, &drops_lock);
	pthread_mutex_unlock(&drops_lock);
}

int ys_drop_capabilities(const char *who, uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2];
	int err = 0, last = last_cap();

	/* uid 0 must not win capabilities back, by exec or by setuid */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		  SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) && errno != EPERM)
		err = -errno;
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL && errno != EPERM)
			err = -errno;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(caps, 0, sizeof(caps));
	caps[0].effective = caps[0].permitted = (uint32_t)keep;
	caps[1].effective = caps[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, caps))
		err = -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = err ? err : -errno;
	/* changing credentials resets it */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (err)
		ys_err("could not drop the capabilities of the %s: %s", who, strerror(-err));
	return err;
}
