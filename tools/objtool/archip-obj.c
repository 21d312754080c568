// SPDX-License-Identifier: GPL-2.0
/*
 * archip-obj: talk the archip object protocol to a server, for tests,
 * debugging and fuzzing.
 *
 *   archip-obj -s HOST[:PORT] [-l LOCK] [-n] put NAME OFF [--fua] < data
 *   archip-obj -s ... get NAME OFF LEN > data
 *   archip-obj -s ... stat NAME | rm NAME | copy SRC DST | flush [NAME]
 *   archip-obj -s ... discard NAME OFF LEN
 *   archip-obj -s ... lock NAME [SECS]   acquire, hold SECS (or until stdin
 *                                        closes), release; exit 3 if busy
 *   archip-obj -s ... mix CONNS OPS SEED  concurrent pipelined reads and
 *                                        writes from CONNS connections,
 *                                        checked against a reference
 *   archip-obj -s ... fuzz FRAMES SEED [STALL_S]
 *                                        hostile frames of every op, before
 *                                        and after authentication, beside a
 *                                        checked good client (obj_fuzz.c);
 *                                        a stream stalled STALL_S (60) fails
 *   archip-obj -s ... bench OP BS QD SECS  throughput/latency of one object
 *   archip-obj -s ... conns N            N connections one after another:
 *                                        the handshake's cost (median us)
 *
 * -l LOCK takes lock LOCK anew first (exit 3 if it is held elsewhere):
 * the requests carry its epoch, which a change to an object of the volume
 * format needs (archip_vol_obj_fenced()); for one-connection commands.
 * -n asks the server for no crc32c digests (they are asked for by default).
 *
 * It authenticates with the key in $ARCHIP_KEY_FILE, or else in
 * /etc/archip/archip.key if that exists; with neither, or with
 * ARCHIP_KEY_FILE set but empty, it connects without a key (to an
 * --insecure server, or to see a refusal).
 *
 * Exit: 0 ok, 1 failure, 2 usage, 3 lock busy.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "archip_client.h"
#include "obj_fuzz.h"

static char host[256];
static uint16_t port;
/* -n: ask for no digests (the wire-corruption test's control). */
static uint64_t features = ARCHIP_FEAT_KNOWN;

static void usage(void)
{
	fprintf(stderr,
		"usage: archip-obj -s HOST[:PORT] [-l LOCK] [-n] COMMAND ARGS\n"
		"  put NAME OFF [--fua] <DATA   get NAME OFF LEN >DATA\n"
		"  stat NAME   rm NAME   copy SRC DST   flush [NAME]\n"
		"  discard NAME OFF LEN   lock NAME [SECS]\n"
		"  mix CONNS OPS SEED   fuzz FRAMES SEED [STALL_S]   bench read|write BS QD SECS\n"
		"  conns N\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "archip-obj: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

static void connect_or_die(struct archip_client *c, uint64_t id)
{
	if (archip_client_connect(c, host, port, id, features)) {
		fprintf(stderr, "archip-obj: %s\n", c->error);
		exit(1);
	}
}

static int check(struct archip_client *c, int st, const char *what)
{
	if (st == -EPROTO && c->error[0]) {
		fprintf(stderr, "archip-obj: %s: %s\n", what, c->error);
		return 1;
	}
	if (st) {
		fprintf(stderr, "archip-obj: %s: %s\n", what, strerror(-st));
		return 1;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ------------------------------------------------------------ simple ops */

static int cmd_put(struct archip_client *c, int argc, char **argv)
{
	uint64_t off;
	uint16_t flags = 0;
	char *buf;
	ssize_t n;

	if (argc < 2)
		usage();
	off = num(argv[1]);
	if (argc > 2 && !strcmp(argv[2], "--fua"))
		flags = ARCHIP_REQ_FUA;
	buf = malloc(c->max_io);
	for (;;) {
		size_t got = 0;

		while (got < c->max_io) {
			n = read(0, buf + got, c->max_io - got);
			if (n <= 0)
				break;
			got += n;
		}
		if (!got)
			break;
		if (check(c, archip_client_call(c, ARCHIP_OP_WRITE, flags, argv[0],
						off, got, buf, got, NULL, 0), "write"))
			return 1;
		off += got;
		if (got < c->max_io)
			break;
	}
	free(buf);
	return 0;
}

static int cmd_get(struct archip_client *c, int argc, char **argv)
{
	uint64_t off, len;
	char *buf;

	if (argc != 3)
		usage();
	off = num(argv[1]);
	len = num(argv[2]);
	buf = malloc(c->max_io);
	while (len) {
		uint32_t n = len < c->max_io ? len : c->max_io;

		if (check(c, archip_client_call(c, ARCHIP_OP_READ, 0, argv[0], off,
						n, NULL, 0, buf, n), "read"))
			return 1;
		if (archip_write_all(1, buf, n) && fwrite(buf, 1, n, stdout) != n)
			return 1;
		off += n;
		len -= n;
	}
	free(buf);
	return 0;
}

static int cmd_stat(struct archip_client *c, int argc, char **argv)
{
	struct archip_stat st;

	if (argc != 1)
		usage();
	if (check(c, archip_client_call(c, ARCHIP_OP_STAT, 0, argv[0], 0, 0,
					NULL, 0, &st, sizeof(st)), "stat"))
		return 1;
	printf("exists=%d size=%" PRIu64 " allocated=%" PRIu64 "\n",
	       !!(le32toh(st.flags) & ARCHIP_STAT_EXISTS),
	       (uint64_t)le64toh(st.size), (uint64_t)le64toh(st.allocated));
	return 0;
}

static int cmd_lock(struct archip_client *c, int argc, char **argv)
{
	struct archip_acquire_rep ar;
	int st;

	if (argc < 1)
		usage();
	st = archip_client_call(c, ARCHIP_OP_ACQUIRE, 0, argv[0], 0, 0, NULL, 0,
				&ar, sizeof(ar));
	if (st == -EAGAIN) {
		printf("busy\n");
		return 3;
	}
	if (check(c, st, "acquire"))
		return 1;
	printf("acquired epoch %u\n", le32toh(ar.epoch));
	fflush(stdout);
	if (argc > 1) {
		sleep(num(argv[1]));
	} else {
		char b[64];

		while (read(0, b, sizeof(b)) > 0)
			;
	}
	if (check(c, archip_client_call(c, ARCHIP_OP_RELEASE, 0, argv[0], 0, 0,
					NULL, 0, NULL, 0), "release"))
		return 1;
	printf("released\n");
	return 0;
}

/* ------------------------------------------------------------------- mix */

#define MIX_OBJS	4
#define MIX_OBJ_SIZE	(1u << 20)
#define MIX_BLK		4096
#define MIX_QD		16

struct mix_req {
	int busy;
	int write;
	int obj;
	uint32_t off, len;
	uint64_t tag;
	char *buf;
};

struct mix_thread {
	pthread_t th;
	int id;
	unsigned int seed;
	long ops;
	long errors;
	unsigned char *ref[MIX_OBJS];
};

static int overlaps(struct mix_req *q, int obj, uint32_t off, uint32_t len)
{
	int i;

	for (i = 0; i < MIX_QD; i++)
		if (q[i].busy && q[i].obj == obj &&
		    off < q[i].off + q[i].len && q[i].off < off + len)
			return 1;
	return 0;
}

static void *mix_run(void *arg)
{
	struct mix_thread *t = arg;
	struct mix_req q[MIX_QD] = { 0 };
	struct archip_client c;
	char name[MIX_OBJS][64];
	long sent = 0, done = 0;
	int i, inflight = 0;

	connect_or_die(&c, 1000 + t->id);
	for (i = 0; i < MIX_OBJS; i++) {
		snprintf(name[i], sizeof(name[i]), "mix-%u-%d-%d", t->seed - t->id,
			 t->id, i);
		t->ref[i] = calloc(1, MIX_OBJ_SIZE);	/* missing reads as 0 */
		archip_client_call(&c, ARCHIP_OP_DELETE, 0, name[i], 0, 0, NULL, 0,
				   NULL, 0);
	}
	for (i = 0; i < MIX_QD; i++)
		q[i].buf = malloc(64 * 1024 + MIX_BLK);

	while (done < t->ops) {
		/* Submit while there is room and work left. */
		while (sent < t->ops && inflight < MIX_QD) {
			struct mix_req *r = NULL;
			uint32_t off, len;
			int obj, w, k;

			obj = rand_r(&t->seed) % MIX_OBJS;
			/* Odd sizes and offsets too: not only 4 KiB units. */
			if (rand_r(&t->seed) % 4 == 0) {
				off = rand_r(&t->seed) % (MIX_OBJ_SIZE - 1);
				len = 1 + rand_r(&t->seed) % 9000;
			} else {
				off = (rand_r(&t->seed) % (MIX_OBJ_SIZE / MIX_BLK)) * MIX_BLK;
				len = MIX_BLK * (1 + rand_r(&t->seed) % 16);
			}
			if (off + len > MIX_OBJ_SIZE)
				len = MIX_OBJ_SIZE - off;
			if (overlaps(q, obj, off, len))
				break;	/* wait for the overlapping one first */
			w = rand_r(&t->seed) % 2;
			for (i = 0; i < MIX_QD; i++)
				if (!q[i].busy) {
					r = &q[i];
					break;
				}
			r->busy = 1;
			r->write = w;
			r->obj = obj;
			r->off = off;
			r->len = len;
			r->tag = ((uint64_t)(r - q) << 32) | (uint32_t)sent;
			if (w) {
				for (k = 0; k < (int)len; k++)
					r->buf[k] = rand_r(&t->seed);
				memcpy(t->ref[obj] + off, r->buf, len);
			}
			if (archip_client_send(&c, w ? ARCHIP_OP_WRITE : ARCHIP_OP_READ,
					       0, r->tag, name[obj], off, len,
					       w ? r->buf : NULL, w ? len : 0)) {
				fprintf(stderr, "mix %d: %s\n", t->id, c.error);
				t->errors++;
				return NULL;
			}
			inflight++;
			sent++;
		}
		{
			struct archip_reply rep;
			static __thread char rbuf[64 * 1024 + MIX_BLK];
			struct mix_req *r;

			if (archip_client_recv(&c, &rep, rbuf, sizeof(rbuf))) {
				fprintf(stderr, "mix %d: %s\n", t->id, c.error);
				t->errors++;
				return NULL;
			}
			r = &q[rep.tag >> 32];
			if (rep.tag >> 32 >= MIX_QD || !r->busy || r->tag != rep.tag) {
				fprintf(stderr, "mix %d: reply with unknown tag\n", t->id);
				t->errors++;
				return NULL;
			}
			if (rep.status) {
				fprintf(stderr, "mix %d: %s failed: %s\n", t->id,
					r->write ? "write" : "read", strerror(-rep.status));
				t->errors++;
			} else if (!r->write &&
				   (rep.data_len != r->len ||
				    memcmp(rbuf, t->ref[r->obj] + r->off, r->len))) {
				fprintf(stderr, "mix %d: data mismatch in %s at %u+%u\n",
					t->id, name[r->obj], r->off, r->len);
				t->errors++;
			}
			r->busy = 0;
			inflight--;
			done++;
		}
	}
	/* Finally read every object whole and compare. */
	for (i = 0; i < MIX_OBJS; i++) {
		char *all = malloc(MIX_OBJ_SIZE);
		uint32_t o;

		for (o = 0; o < MIX_OBJ_SIZE; o += 65536)
			if (archip_client_call(&c, ARCHIP_OP_READ, 0, name[i], o, 65536,
					       NULL, 0, all + o, 65536))
				t->errors++;
		if (memcmp(all, t->ref[i], MIX_OBJ_SIZE)) {
			fprintf(stderr, "mix %d: %s differs from the reference\n",
				t->id, name[i]);
			t->errors++;
		}
		free(all);
	}
	archip_client_close(&c);
	return NULL;
}

static int cmd_mix(int argc, char **argv)
{
	struct mix_thread *t;
	long errors = 0, i, n;

	if (argc != 3)
		usage();
	n = num(argv[0]);
	t = calloc(n, sizeof(*t));
	for (i = 0; i < n; i++) {
		t[i].id = i;
		t[i].ops = num(argv[1]);
		t[i].seed = num(argv[2]) + i;
		pthread_create(&t[i].th, NULL, mix_run, &t[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i].th, NULL);
		errors += t[i].errors;
	}
	printf("mix: %ld connections x %ld ops, %ld errors\n", n, t[0].ops, errors);
	return errors ? 1 : 0;
}

static int cmd_fuzz(int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		usage();
	return archip_obj_fuzz(host, port, num(argv[0]), num(argv[1]),
			       argc == 3 ? num(argv[2]) : 0);
}

/* ----------------------------------------------------------------- bench */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmd_bench(struct archip_client *c, int argc, char **argv)
{
	uint64_t bs, qd, secs, t0, end, ops = 0, nlat = 0, *lat, *sent_at;
	int w, i, inflight = 0;
	char *buf;

	if (argc != 4)
		usage();
	w = !strcmp(argv[0], "write");
	bs = num(argv[1]);
	qd = num(argv[2]);
	secs = num(argv[3]);
	if (bs > c->max_io || !qd || qd > c->max_inflight || qd > 1024) {
		fprintf(stderr, "archip-obj: bs over max_io (%u) or bad qd\n", c->max_io);
		return 2;
	}
	buf = malloc(bs);
	memset(buf, 0x3c, bs);
	lat = malloc(sizeof(*lat) * 4000000);
	sent_at = calloc(qd, sizeof(*sent_at));
	t0 = now_ns();
	end = t0 + secs * 1000000000ull;
	for (;;) {
		struct archip_reply rep;
		uint64_t n;

		while (inflight < (int)qd && now_ns() < end) {
			for (i = 0; sent_at[i]; i++)
				;
			n = (uint64_t)rand() % ((4u << 20) / bs);
			sent_at[i] = now_ns();
			if (archip_client_send(c, w ? ARCHIP_OP_WRITE : ARCHIP_OP_READ, 0, i,
					       "bench", n * bs, bs, w ? buf : NULL,
					       w ? bs : 0))
				return check(c, -EPROTO, "bench");
			inflight++;
		}
		if (!inflight)
			break;
		if (archip_client_recv(c, &rep, buf, bs))
			return check(c, -EPROTO, "bench");
		if (rep.status)
			return check(c, rep.status, "bench");
		if (nlat < 4000000)
			lat[nlat++] = now_ns() - sent_at[rep.tag];
		sent_at[rep.tag] = 0;
		inflight--;
		ops++;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	{
		double s = (now_ns() - t0) / 1e9, sum = 0;
		uint64_t k;

		for (k = 0; k < nlat; k++)
			sum += lat[k];
		printf("%s bs=%" PRIu64 " qd=%" PRIu64 " iops=%.0f mbps=%.2f "
		       "lat_avg_us=%.0f lat_p99_us=%.0f\n", argv[0], bs, qd, ops / s,
		       ops * bs / s / 1e6, nlat ? sum / nlat / 1e3 : 0,
		       nlat ? lat[nlat * 99 / 100] / 1e3 : 0);
	}
	return 0;
}

/* Connect, handshake (authenticated if a key is set), close: N times. */
static int cmd_conns(int argc, char **argv)
{
	struct archip_client c;
	uint64_t *t, n, i;

	if (argc != 1)
		usage();
	n = num(argv[0]);
	if (!n || n > 100000)
		usage();
	t = calloc(n, sizeof(*t));
	if (!t)
		return 1;
	for (i = 0; i < n; i++) {
		uint64_t start = now_ns();

		connect_or_die(&c, i);
		t[i] = now_ns() - start;
		archip_client_close(&c);
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("conns %" PRIu64 " median_us %" PRIu64 " p90_us %" PRIu64 "\n", n,
	       t[n / 2] / 1000, t[n * 9 / 10] / 1000);
	free(t);
	return 0;
}

static int load_key(void)
{
	const char *path = getenv("ARCHIP_KEY_FILE");
	uint8_t key[ARCHIP_KEY_LEN];
	char err[256];

	if ((path && !*path) || (!path && access(ARCHIP_KEY_FILE_DEFAULT, F_OK)))
		return 0;
	if (archip_key_read(path ? path : ARCHIP_KEY_FILE_DEFAULT, key, err,
			    sizeof(err))) {
		fprintf(stderr, "archip-obj: %s\n", err);
		return -1;
	}
	archip_client_set_key(key);
	memset(key, 0, sizeof(key));
	return 0;
}

/*
 * -l LOCK: take it anew; the connection's requests carry its epoch.  A
 * lock just let go by another process may still be its connection's
 * for a moment (until the server sees the close): tried for 5 s; the
 * barrier waits up to 10 s for writers bound at an older epoch.
 */
static void take_lock(struct archip_client *c, const char *lock)
{
	struct archip_acquire_rep ar;
	int st, i;

	for (i = 0; i < 50; i++) {
		st = archip_client_call(c, ARCHIP_OP_ACQUIRE, 0, lock, 0, 10000, NULL, 0,
					&ar, sizeof(ar));
		if (st != -EAGAIN)
			break;
		usleep(100 * 1000);
	}
	if (st == -EAGAIN) {
		fprintf(stderr, "archip-obj: lock %s is held elsewhere\n", lock);
		exit(3);
	}
	if (check(c, st, "acquire"))
		exit(1);
	c->epoch = le32toh(ar.epoch);
}

int main(int argc, char **argv)
{
	struct archip_client c;
	const char *cmd, *lock = NULL;
	int st;

	if (argc < 4 || strcmp(argv[1], "-s"))
		usage();
	if (archip_parse_server(argv[2], host, sizeof(host), &port)) {
		fprintf(stderr, "archip-obj: bad server '%s': use HOST[:PORT]\n", argv[2]);
		return 2;
	}
	if (load_key())
		return 1;
	for (;;) {
		if (!strcmp(argv[3], "-l") && argc >= 6) {
			lock = argv[4];
			argc -= 2;
			argv += 2;
		} else if (!strcmp(argv[3], "-n") && argc >= 5) {
			features &= ~ARCHIP_FEAT_DIGEST;
			argc--;
			argv++;
		} else {
			break;
		}
	}
	cmd = argv[3];
	argc -= 4;
	argv += 4;
	if (lock && (!strcmp(cmd, "mix") || !strcmp(cmd, "fuzz") ||
		     !strcmp(cmd, "conns") || !strcmp(cmd, "lock")))
		usage();
	if (!strcmp(cmd, "mix"))
		return cmd_mix(argc, argv);
	if (!strcmp(cmd, "fuzz"))
		return cmd_fuzz(argc, argv);
	if (!strcmp(cmd, "conns"))
		return cmd_conns(argc, argv);

	connect_or_die(&c, getpid());
	if (lock)
		take_lock(&c, lock);
	if (!strcmp(cmd, "put"))
		return cmd_put(&c, argc, argv);
	if (!strcmp(cmd, "get"))
		return cmd_get(&c, argc, argv);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(&c, argc, argv);
	if (!strcmp(cmd, "lock"))
		return cmd_lock(&c, argc, argv);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(&c, argc, argv);
	if (!strcmp(cmd, "rm") && argc == 1)
		st = archip_client_call(&c, ARCHIP_OP_DELETE, 0, argv[0], 0, 0, NULL, 0, NULL, 0);
	else if (!strcmp(cmd, "copy") && argc == 2)
		st = archip_client_call(&c, ARCHIP_OP_COPY, 0, argv[0], 0, 0, argv[1],
					strlen(argv[1]), NULL, 0);
	else if (!strcmp(cmd, "flush") && argc <= 1)
		st = archip_client_call(&c, ARCHIP_OP_FLUSH, 0, argc ? argv[0] : NULL,
					0, 0, NULL, 0, NULL, 0);
	else if (!strcmp(cmd, "discard") && argc == 3)
		st = archip_client_call(&c, ARCHIP_OP_DISCARD, 0, argv[0], num(argv[1]),
					num(argv[2]), NULL, 0, NULL, 0);
	else
		usage();
	return check(&c, st, cmd);
}
