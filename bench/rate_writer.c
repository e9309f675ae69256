// SPDX-License-Identifier: MIT
/* Writes log text at a target rate, for the end-to-end benchmark.
 *
 *   rate_writer [-r MB/s] [-t SECONDS] [-b BYTES] [-o FILE]
 *
 * -r 0 (the default) writes as fast as it can. MB is 10^6 bytes. Writes are
 * BYTES (default 4096) each, to FILE (default /dev/null). At the end prints
 * one line: what it achieved and the CPU it used itself, so that a caller
 * timing yarasnoop with this as its child can tell the two apart. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Text the bundled rules scan but do not match: zeros would let the
 * rules' atoms skip most of it and flatter the scanner. */
static void fill(char *p, size_t len)
{
	static const char line[] =
		"2024-03-01T12:00:00.000000Z web-01 app[1234]: INFO user=alice req=0123456789abcdef took=12ms cache miss, retrying upstream\n";
	for (size_t i = 0; i < len; i++)
		p[i] = line[i % (sizeof(line) - 1)];
}

int main(int argc, char **argv)
{
	double rate = 0, secs = 3;
	size_t bs = 4096;
	const char *path = "/dev/null";
	uint64_t start, end, now, written = 0, writes = 0;
	struct rusage ru;
	char *buf;
	int opt, fd;

	while ((opt = getopt(argc, argv, "r:t:b:o:")) != -1) {
		switch (opt) {
		case 'r':
			rate = atof(optarg) * 1e6;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'b':
			bs = (size_t)atol(optarg);
			break;
		case 'o':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: rate_writer [-r MB/s] [-t SECONDS] [-b BYTES] [-o FILE]\n");
			return 2;
		}
	}
	if (!bs || secs <= 0 || rate < 0)
		return 2;
	buf = malloc(bs);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (!buf || fd < 0) {
		fprintf(stderr, "rate_writer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fill(buf, bs);
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	while ((now = now_ns()) < end) {
		/* catch up to where the rate says we should be, then sleep until
		 * the next write is due: the average holds whatever the timer slack */
		uint64_t due = rate ? (uint64_t)((double)(now - start) * rate / 1e9) : written + 64 * bs;

		if (written + bs > due) {
			struct timespec ts = { 0, (long)((double)(written + bs - due) * 1e9 / rate) };

			nanosleep(&ts, NULL);
			continue;
		}
		/* a bounded burst, so that a writer that fell behind stops on time */
		for (int i = 0; i < 64 && written + bs <= due; i++) {
			if (write(fd, buf, bs) != (ssize_t)bs) {
				fprintf(stderr, "rate_writer: write: %s\n", strerror(errno));
				return 1;
			}
			written += bs;
			writes++;
		}
	}
	now = now_ns();
	getrusage(RUSAGE_SELF, &ru);
	printf("rate_writer target_mbps=%.0f bytes=%llu writes=%llu seconds=%.3f mbps=%.1f cpu_user=%.3f cpu_sys=%.3f\n",
	       rate / 1e6, (unsigned long long)written, (unsigned long long)writes,
	       (double)(now - start) / 1e9, (double)written / ((double)(now - start) / 1e3),
	       tv_s(ru.ru_utime), tv_s(ru.ru_stime));
	close(fd);
	free(buf);
	return 0;
}
