// SPDX-License-Identifier: MIT
/* A loop over one route, for the cost of yarasnoop's route hooks to the
 * processes that take it (traced or not). Prints the loop's own elapsed
 * seconds, as dd does, so that start-up does not count.
 *
 *   route_loop send N      N send()s of 64 bytes, UDP on loopback
 *   route_loop ssl N CERT KEY   N SSL_write()s of 64 bytes over a socketpair
 *   route_loop ioctl N     N ioctl(FIONREAD)s: a hook that checks the command
 *   route_loop mmap N      N mmap/munmap of a private anonymous page */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* UDP to a loopback socket nobody reads: once its buffer is full the
 * kernel drops the datagrams, and send() is a syscall with no one to wait
 * for. */
static int loop_send(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char buf[64] = "route_loop";
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);

	if (r < 0 || s < 0 || bind(r, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(r, (struct sockaddr *)&a, &alen) || connect(s, (struct sockaddr *)&a, alen))
		return 1;
	for (long i = 0; i < n; i++)
		if (send(s, buf, sizeof(buf), 0) != sizeof(buf))
			return 1;
	return 0;
}

/* The server side runs in a child (not traced by -p either way). */
static int loop_ssl(long n, const char *cert, const char *key, double *t0)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
	char buf[64] = "route_loop";
	int sv[2];
	SSL *c;

	if (!sctx || !cctx || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    SSL_CTX_use_certificate_file(sctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1)
		return 1;
	if (fork() == 0) {
		SSL *s = SSL_new(sctx);
		char in[16384];

		close(sv[0]);
		SSL_set_fd(s, sv[1]);
		if (SSL_accept(s) == 1)
			while (SSL_read(s, in, sizeof(in)) > 0)
				;
		_exit(0);
	}
	close(sv[1]);
	c = SSL_new(cctx);
	SSL_set_fd(c, sv[0]);
	if (SSL_connect(c) != 1)
		return 1;
	*t0 = now();	/* the loop, not the handshake */
	for (long i = 0; i < n; i++)
		if (SSL_write(c, buf, sizeof(buf)) != sizeof(buf))
			return 1;
	SSL_shutdown(c);
	SSL_free(c);
	close(sv[0]);
	return 0;
}

static int loop_ioctl(long n)
{
	int sv[2], v;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	for (long i = 0; i < n; i++)
		if (ioctl(sv[0], FIONREAD, &v))
			return 1;
	return 0;
}

static int loop_mmap(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p, 4096))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double t0, t1;
	long n;
	int rc;

	if (argc < 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: route_loop send|ssl|ioctl|mmap N [CERT KEY]\n");
		return 2;
	}
	t0 = now();
	if (!strcmp(argv[1], "send"))
		rc = loop_send(n);
	else if (!strcmp(argv[1], "ssl") && argc == 5)
		rc = loop_ssl(n, argv[3], argv[4], &t0);
	else if (!strcmp(argv[1], "ioctl"))
		rc = loop_ioctl(n);
	else if (!strcmp(argv[1], "mmap"))
		rc = loop_mmap(n);
	else
		rc = 2;
	t1 = now();
	while (wait(NULL) > 0)
		;
	if (rc) {
		fprintf(stderr, "route_loop %s failed\n", argv[1]);
		return rc;
	}
	printf("%.6f\n", t1 - t0);
	return 0;
}
