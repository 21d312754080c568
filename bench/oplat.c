// SPDX-License-Identifier: GPL-2.0
/*
 * oplat: time single file operations on a filesystem, one at a time.
 *
 *   oplat populate DIR N        create DIR/f0..N-1, 4 KiB each, fsync'd
 *   oplat create DIR N          time open(O_CREAT|O_EXCL) + close of N new files
 *   oplat read DIR N            time open + one 4 KiB O_DIRECT pread + close
 *   oplat write DIR N           time open + one 4 KiB O_DIRECT|O_DSYNC pwrite
 *                               + close
 *   oplat new DIR N             time open(O_CREAT|O_EXCL|O_DIRECT|O_DSYNC) +
 *                               one 4 KiB pwrite + close of N new files: a
 *                               new object's first write on the object server
 *
 * read and write open with O_NOATIME, as the object server opens objects:
 * without it s2's first read of a file s1 wrote updates its atime (an inode
 * lock EX and a journal commit), a cost the server never pays.
 *
 * Each timed mode prints "MODE N AVG_US MEDIAN_US": the bench script runs
 * it on a node whose lock resources for those files are not cached, as
 * Tables 8.3-8.5 of the thesis measure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IOSZ 4096

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "oplat: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *mode, *dir;
	double *lat, sum = 0;
	char path[4096];
	void *buf;
	long i, n;
	int fd;

	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: oplat populate|create|read|write|new DIR N\n");
		return 2;
	}
	mode = argv[1];
	dir = argv[2];
	lat = calloc(n, sizeof(*lat));
	if (!lat || posix_memalign(&buf, IOSZ, IOSZ))
		return 1;
	memset(buf, 0xa5, IOSZ);

	for (i = 0; i < n; i++) {
		double t0;

		if (!strcmp(mode, "create"))
			snprintf(path, sizeof(path), "%s/c%ld", dir, i);
		else if (!strcmp(mode, "new"))
			snprintf(path, sizeof(path), "%s/n%ld", dir, i);
		else
			snprintf(path, sizeof(path), "%s/f%ld", dir, i);

		if (!strcmp(mode, "populate")) {
			fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (fd < 0 || pwrite(fd, buf, IOSZ, 0) != IOSZ || fsync(fd))
				die("populate", path);
			close(fd);
			continue;
		}

		t0 = now_us();
		if (!strcmp(mode, "create")) {
			fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (fd < 0)
				die("create", path);
		} else if (!strcmp(mode, "read")) {
			fd = open(path, O_RDONLY | O_DIRECT | O_NOATIME);
			if (fd < 0 || pread(fd, buf, IOSZ, 0) != IOSZ)
				die("read", path);
		} else if (!strcmp(mode, "new")) {
			fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_DIRECT | O_DSYNC, 0644);
			if (fd < 0 || pwrite(fd, buf, IOSZ, 0) != IOSZ)
				die("new", path);
		} else if (!strcmp(mode, "write")) {
			fd = open(path, O_WRONLY | O_DIRECT | O_DSYNC | O_NOATIME);
			if (fd < 0 || pwrite(fd, buf, IOSZ, 0) != IOSZ)
				die("write", path);
		} else {
			fprintf(stderr, "oplat: unknown mode '%s'\n", mode);
			return 2;
		}
		close(fd);
		lat[i] = now_us() - t0;
		sum += lat[i];
	}
	if (strcmp(mode, "populate")) {
		qsort(lat, n, sizeof(*lat), cmp_double);
		printf("%s %ld %.1f %.1f\n", mode, n, sum / n, lat[n / 2]);
	}
	return 0;
}
