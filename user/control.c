// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "opts.h"
#include "util.h"

struct client {
	int fd;			/* -1: free slot */
	uint64_t since_ns;
	char req[YS_CONTROL_MAX_REQUEST];
	size_t req_len;
	struct ys_buf reply;
	size_t sent;
	bool replying;
};

struct ys_control {
	int fd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ys_control_ops ops;
	struct client clients[YS_CONTROL_MAX_CLIENTS];
};

static int path_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Someone listening there? */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

int ys_control_open(const char *path, const struct ys_control_ops *ops, int epfd,
		    struct ys_control **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sa;
	struct ys_control *c;
	struct stat st;
	mode_t old;
	int err;

	*out = NULL;
	err = path_addr(path, &sa);
	if (err) {
		ys_err("control socket path %s is too long", path);
		return err;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			ys_err("control socket path %s exists and is not a socket; remove it or pass --control", path);
			return -EEXIST;
		}
		if (socket_alive(&sa)) {
			ys_err("another yarasnoop is listening on %s; pass --control PATH or --no-control", path);
			return -EADDRINUSE;
		}
		unlink(path);	/* stale: its instance is gone */
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (int i = 0; i < YS_CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->ops = *ops;
	c->epfd = epfd;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* created 0600 from the start: no window where others may connect */
	old = umask(0177);
	err = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err || listen(c->fd, YS_CONTROL_MAX_CLIENTS)) {
		err = err ? err : -errno;
		goto fail;
	}
	ev.data.fd = c->fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		err = -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ys_err("control socket %s: %s", path, strerror(-err));
	if (c->fd >= 0) {
		close(c->fd);
		unlink(path);
	}
	free(c);
	return err;
}

static void drop_client(struct ys_control *c, struct client *cl)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	ys_buf_free(&cl->reply);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

void ys_control_close(struct ys_control *c)
{
	if (!c)
		return;
	for (int i = 0; i < YS_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			drop_client(c, &c->clients[i]);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	unlink(c->path);
	free(c);
}

int ys_control_fd(const struct ys_control *c)
{
	return c->fd;
}

static struct client *find(struct ys_control *c, int fd)
{
	for (int i = 0; i < YS_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd == fd)
			return &c->clients[i];
	return NULL;
}

bool ys_control_owns(const struct ys_control *c, int fd)
{
	return find((struct ys_control *)c, fd) != NULL;
}

static void reply_error(struct ys_control *c, struct client *cl, const char *msg)
{
	/* best effort: the client may not even read it */
	if (write(cl->fd, msg, strlen(msg)) < 0)
		(void)0;
	drop_client(c, cl);
}

void ys_control_accept(struct ys_control *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *cl;
	int fd;

	while ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		/* the socket file is 0600, and the peer must be root as well */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
			if (write(fd, "error: root only\n", 17) < 0)
				(void)0;
			close(fd);
			continue;
		}
		cl = find(c, -1);
		if (!cl) {
			if (write(fd, "error: busy\n", 12) < 0)
				(void)0;
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->since_ns = ys_now_ns();
		ev.data.fd = fd;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			cl->fd = -1;
		}
	}
}

/* Words separated by single spaces, every one known: anything else is
 * not a request (a client has no reason to send it). */
int ys_stats_req_parse(const char *line, struct ys_stats_req *req)
{
	char buf[YS_CONTROL_MAX_REQUEST + 1], *w, *save = NULL;
	uint64_t v;

	memset(req, 0, sizeof(*req));
	req->json = true;
	if (strlen(line) >= sizeof(buf) || strstr(line, "  ") || line[0] == ' ')
		return -EINVAL;
	strcpy(buf, line);
	w = strtok_r(buf, " ", &save);
	if (!w || strcmp(w, "stats"))
		return -EINVAL;
	while ((w = strtok_r(NULL, " ", &save))) {
		if (!strcmp(w, "json") || !strcmp(w, "text")) {
			req->json = w[0] == 'j';
		} else if (!strcmp(w, "top")) {
			w = strtok_r(NULL, " ", &save);
			if (!w || ys_parse_u64(w, &v) || v > YS_STATS_TOP_MAX)
				return -EINVAL;
			req->top = v;
		} else if (!strcmp(w, "sort")) {
			w = strtok_r(NULL, " ", &save);
			if (w && !strcmp(w, "bytes"))
				req->sort = YS_SORT_BYTES;
			else if (w && !strcmp(w, "memory"))
				req->sort = YS_SORT_MEMORY;
			else
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

void ys_stats_req_format(const struct ys_stats_req *req, char *buf, size_t len)
{
	static const char *const sorts[] = { [YS_SORT_BYTES] = " sort bytes", [YS_SORT_MEMORY] = " sort memory" };
	char top[32] = "";

	if (req->top)
		snprintf(top, sizeof(top), " top %llu", (unsigned long long)req->top);
	snprintf(buf, len, "stats %s%s%s\n", req->json ? "json" : "text", top,
		 req->sort ? sorts[req->sort] : "");
}

static void start_reply(struct ys_control *c, struct client *cl)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	char *nl = memchr(cl->req, '\n', cl->req_len);
	struct ys_stats_req req;

	if (nl > cl->req && nl[-1] == '\r')
		nl--;
	*nl = 0;
	/* a NUL would end the line early for the parser: not a request */
	if (memchr(cl->req, 0, (size_t)(nl - cl->req)) || ys_stats_req_parse(cl->req, &req)) {
		reply_error(c, cl, "error: unknown request; try 'stats json' or 'stats text top 10 sort memory'\n");
		return;
	}
	c->ops.stats(c->ops.arg, &req, &cl->reply);
	if (cl->reply.oom) {
		reply_error(c, cl, "error: out of memory\n");
		return;
	}
	if (!cl->reply.len || cl->reply.p[cl->reply.len - 1] != '\n')
		ys_buf_put(&cl->reply, "\n", 1);
	cl->replying = true;
	ev.data.fd = cl->fd;
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
}

void ys_control_handle(struct ys_control *c, int fd)
{
	struct client *cl = find(c, fd);
	ssize_t n;

	if (!cl)
		return;
	if (!cl->replying) {
		n = read(fd, cl->req + cl->req_len, sizeof(cl->req) - cl->req_len);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				drop_client(c, cl);
			return;
		}
		cl->req_len += (size_t)n;
		if (memchr(cl->req, '\n', cl->req_len)) {
			start_reply(c, cl);
		} else if (cl->req_len == sizeof(cl->req)) {
			reply_error(c, cl, "error: request too long\n");
		}
		return;
	}
	while (cl->sent < cl->reply.len) {
		n = write(fd, cl->reply.p + cl->sent, cl->reply.len - cl->sent);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;	/* wait for EPOLLOUT */
			drop_client(c, cl);
			return;
		}
		cl->sent += (size_t)n;
	}
	drop_client(c, cl);
}

void ys_control_tick(struct ys_control *c, uint64_t now_ns)
{
	for (int i = 0; i < YS_CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd >= 0 && now_ns - cl->since_ns > YS_CONTROL_TIMEOUT_NS)
			drop_client(c, cl);
	}
}


/* ---- the client: yarasnoop stats ---- */

/* The first line of the n bytes read: they are not NUL-terminated. */
static int line_len(const char *buf, size_t n)
{
	const char *nl = memchr(buf, '\n', n);

	return (int)(nl ? (size_t)(nl - buf) : n);
}

int ys_stats_main(int argc, char **argv)
{
	struct ys_config cfg;
	struct ys_stats_req sr;
	char req[YS_CONTROL_MAX_REQUEST];
	const char *path;
	struct sockaddr_un sa;
	char buf[65536];
	ssize_t n;
	int fd, rc = YS_EXIT_OK;

	rc = ys_opts_parse(&cfg, YS_CMD_STATS, argc, argv);
	ys_config_free(&cfg);
	if (rc)
		return rc > 0 ? YS_EXIT_OK : YS_EXIT_USAGE;
	path = cfg.control_path;
	sr = (struct ys_stats_req){ .json = cfg.format == YS_FMT_JSON, .top = cfg.top, .sort = cfg.sort };
	ys_stats_req_format(&sr, req, sizeof(req));
	if (path_addr(path, &sa)) {
		ys_err("control socket path %s is too long", path);
		return YS_EXIT_USAGE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ys_err("no yarasnoop answers on %s (%s): is one running, and are you root?", path,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return YS_EXIT_ENV;
	}
	/* An instance that turns us away ("error: busy", "error: root only")
	 * may close before our request is in: no SIGPIPE, and read its reason. */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		int e = errno;

		n = read(fd, buf, sizeof(buf));
		if (n >= 6 && !memcmp(buf, "error:", 6))
			ys_err("%.*s", line_len(buf, (size_t)n), buf);
		else
			ys_err("control socket %s: %s", path, strerror(e));
		close(fd);
		return YS_EXIT_ENV;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (n >= 6 && !memcmp(buf, "error:", 6)) {
			ys_err("%.*s", line_len(buf, (size_t)n), buf);
			rc = YS_EXIT_ENV;
			break;
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			rc = YS_EXIT_RUNTIME;
			break;
		}
	}
	close(fd);
	if (fflush(stdout))
		rc = YS_EXIT_RUNTIME;
	return rc;
}
