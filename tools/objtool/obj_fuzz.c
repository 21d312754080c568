// SPDX-License-Identifier: GPL-2.0
/*
 * archip-obj fuzz FRAMES SEED [STALL_S]: hostile network input against an
 * object server (Documentation/protocol.rst), with a good client beside it.
 * A stream or hello that makes no progress for STALL_S seconds (60) fails:
 * a stuck server.  The debug kernel's server is many times slower under
 * this load (selftests/debug_focus.sh gives it more).
 *
 * Three things run at once:
 *  - streams: authenticated connections (FUZZ_STREAMS at a time), each a
 *    pipelined run of random frames of every op, sent in random pieces
 *    (down to one byte per write).  Most are well framed: each must get
 *    exactly one reply, with its tag, a status that is 0 or an errno, and
 *    a payload of the size its op gives (a READ of 0 status: exactly its
 *    length).  A stream may end in a frame that protocol.rst's
 *    "Validation" rules refuse (bad magic, reserved bits, oversized name,
 *    length or payload, bad name bytes, ...): the server must close the
 *    connection without answering it.  Or in a truncated frame whose
 *    missing bytes are garbage: the server must close too.  We never
 *    close first, so no kind passes by our own doing.
 *  - hellos: connections whose handshake is hostile (bad magic, version,
 *    length, garbage, an unknown key, a known key's id with a forged
 *    proof, a request where the proof belongs, a hello cut short): each
 *    must be refused with a status, or for the cut-short one, not
 *    answered while it waits.
 *  - a good client: writes, reads and discards on one object against a
 *    model of its bytes the whole time; every answer must be right.
 *
 * Every name is in the "fz" namespace (fz.*, v.fz, d.fz.*, vol.fz ...),
 * so a fuzz run never touches a real volume.  The same seed makes the
 * same frames.  Exit 0 only if every check held.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <linux/archip-volume.h>

#include "archip_client.h"
#include "obj_fuzz.h"

#define FUZZ_STREAMS	8
#define STREAM_MAX	400		/* frames per stream */
#define STALL_MS	60000		/* default: a stream that moves for no longer fails */
#define GOOD_SIZE	(1u << 20)
#define GOOD_BLK	4096
#define FUZZ_FULL	5000		/* frames enough to use every refusal rule */

static const char *fz_host;
static uint16_t fz_port;
static uint64_t fz_stall_ms = STALL_MS;
static int fz_done;		/* set once the streams and hellos are over */

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint32_t rnd(uint64_t *s)	/* xorshift64*: fast, seeded */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 2685821657736338717ull) >> 32);
}

/* ------------------------------------------------------------ the frames */

#define A10	"aaaaaaaaaa"
#define A50	A10 A10 A10 A10 A10
/* 197 a's: with "fz." a name of ARCHIP_NAME_MAX bytes */
#define LONG_A	A50 A50 A50 A10 A10 A10 A10 "aaaaaaa"

static const char *const names[] = {
	"fz.a", "fz.b", "fz.c.d", "fz-x_y", "v.fz", "m.fz", "d.fz.0000000000000000",
	"d.fz.0000000000000001", "s.fz", "i.fz", "h.fz", "vol.fz", "fz.lk",
	"fz." LONG_A,
};
#define NR_NAMES	(sizeof(names) / sizeof(names[0]))

/* How a frame ends a stream, if it does. */
enum { END_NONE, END_FATAL, END_TRUNC };

/* What a well-framed request's reply must look like. */
struct fz_expect {
	uint8_t op;
	uint8_t state;		/* 0: none expected, 1: expected, 2: answered */
	uint8_t optional;	/* may go unanswered (before a stream's end) */
	uint8_t has_want;	/* the status must be want (fencing) */
	int32_t want;
	uint32_t len;		/* READ: its length; LIST: the most */
};

struct fz_buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct fz_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("fuzz");
			exit(1);
		}
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* A request header, and with digests (@dg) its digest. */
static void put_header(struct fz_buf *b, const struct archip_req *rq, int dg)
{
	uint32_t d = htole32(archip_crc32c(rq, sizeof(*rq)));

	buf_put(b, rq, sizeof(*rq));
	if (dg)
		buf_put(b, &d, sizeof(d));
}

/* What follows name and payload with digests: their digest. */
static void put_data_digest(struct fz_buf *b, const void *name, uint16_t nlen,
			    const void *data, uint32_t dlen)
{
	uint32_t d = htole32(~archip_crc32c_update(archip_crc32c_update(ARCHIP_CRC32C_INIT,
									name, nlen),
						   data, dlen));

	if (nlen || dlen)
		buf_put(b, &d, sizeof(d));
}

static void put_frame(struct fz_buf *b, int dg, uint8_t op, uint16_t flags, uint64_t tag,
		      uint64_t off, uint32_t len, const char *name, uint16_t nlen,
		      const void *data, uint32_t dlen, uint32_t epoch)
{
	struct archip_req rq = {
		.magic = htole32(ARCHIP_REQ_MAGIC), .op = op, .flags = htole16(flags),
		.tag = htole64(tag), .off = htole64(off), .len = htole32(len),
		.name_len = htole16(nlen), .data_len = htole32(dlen),
		.epoch = htole32(epoch),
	};

	put_header(b, &rq, dg);
	buf_put(b, name, nlen);
	buf_put(b, data, dlen);
	if (dg)
		put_data_digest(b, name, nlen, data, dlen);
}

static uint8_t junk[1 << 16];

/* A well-framed request of a random op: answered, whatever its status. */
static void gen_good(struct fz_buf *b, int dg, uint64_t *s, uint64_t tag, uint32_t max_io,
		     struct fz_expect *e)
{
	const char *name = names[rnd(s) % NR_NAMES], *dst = names[rnd(s) % NR_NAMES];
	/*
	 * Data requests carry epoch 0 or one no lock ever reaches (lock
	 * epochs grow by one per ACQUIRE): fencing refuses every change to
	 * an object of the volume format, so a run never writes one.
	 */
	uint32_t epoch = rnd(s) % 4 ? 0 : 0x80000000u | rnd(s);
	/* Up to 1 GiB: sparse, and a COPY of it cheap (a reflink). */
	uint64_t off = rnd(s) % 3 ? (uint64_t)(rnd(s) % 256) << 12 : rnd(s) % (1u << 30);
	uint32_t len, io = max_io < 65536 ? max_io : 65536;
	/*
	 * Every op, weighted so that a frame costs the server little on
	 * average: the parser sees them all the same, while a whole-store
	 * FLUSH (a sync of the filesystem) or a LIST (every directory) costs
	 * it a hundred WRITEs.  13: an op no server knows yet.
	 */
	static const uint8_t ops[32] = {
		1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 4, 4, 5, 5,
		6, 6, 7, 7, 7, 7, 7, 8, 8, 9, 10, 11, 12, 13, 13, 13,
	};
	uint8_t op = ops[rnd(s) % 32];

	if (op == 13)	/* an op no server knows yet: -EOPNOTSUPP */
		op = 13 + rnd(s) % 243;
	e->op = op;
	e->state = 1;
	/* Fencing (protocol.rst): what a change must be answered. */
	if (op == ARCHIP_OP_WRITE || op == ARCHIP_OP_DISCARD || op == ARCHIP_OP_WRITE_ZEROES ||
	    op == ARCHIP_OP_DELETE || op == ARCHIP_OP_COPY) {
		if (epoch) {
			e->has_want = 1;
			e->want = -ESTALE;
		} else if (archip_vol_obj_fenced(op == ARCHIP_OP_COPY ? dst : name)) {
			e->has_want = 1;
			e->want = -ENOLCK;
		}
	}
	switch (op) {
	case ARCHIP_OP_READ:
		len = 1 + rnd(s) % io;
		e->len = len;
		put_frame(b, dg, op, 0, tag, off, len, name, strlen(name), NULL, 0, 0);
		return;
	case ARCHIP_OP_WRITE:
		len = 1 + rnd(s) % (io < 8192 ? io : 8192);
		put_frame(b, dg, op, rnd(s) % 2 ? ARCHIP_REQ_FUA : 0, tag, off, len, name,
			  strlen(name), junk + rnd(s) % 4096, len, epoch);
		return;
	case ARCHIP_OP_FLUSH:
		put_frame(b, dg, op, 0, tag, 0, 0, name, rnd(s) % 8 ? strlen(name) : 0, NULL, 0, 0);
		return;
	case ARCHIP_OP_DISCARD:
	case ARCHIP_OP_WRITE_ZEROES:
		put_frame(b, dg, op, 0, tag, off, 1 + rnd(s) % (1u << 21), name, strlen(name),
			  NULL, 0, epoch);
		return;
	case ARCHIP_OP_DELETE:
	case ARCHIP_OP_STAT:
		put_frame(b, dg, op, 0, tag, 0, 0, name, strlen(name), NULL, 0, epoch);
		return;
	case ARCHIP_OP_COPY:
		put_frame(b, dg, op, 0, tag, 0, 0, name, strlen(name), dst, strlen(dst), epoch);
		return;
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_RELEASE:
		name = rnd(s) % 2 ? "fz.lk" : "vol.fz";
		put_frame(b, dg, op, 0, tag, 0, op == ARCHIP_OP_ACQUIRE ? rnd(s) % 50 : 0, name,
			  strlen(name), NULL, 0, rnd(s) % 2 ? 0 : 1 + rnd(s) % 3);
		return;
	case ARCHIP_OP_BIND:
		name = rnd(s) % 2 ? "fz.lk" : "vol.fz";
		/* Each slot is a lock file: a few, and the last one. */
		put_frame(b, dg, op, 0, tag, rnd(s) % 8 ? rnd(s) % 16 : ARCHIP_BIND_MAX_SLOT, rnd(s) % 50,
			  name, strlen(name), NULL, 0, 1 + rnd(s) % 3);
		return;
	case ARCHIP_OP_LIST:
		len = 1 + rnd(s) % io;
		e->len = len;
		put_frame(b, dg, op, 0, tag, rnd(s) % 2 ? 0 : rnd(s), len, name,
			  1 + rnd(s) % strlen(name), NULL, 0, 0);
		return;
	default:
		put_frame(b, dg, op, 0, tag, 0, 0, name, strlen(name), junk, rnd(s) % 64, 0);
		return;
	}
}

/* The rules of every stream, then those of streams with digests. */
#define PLAIN_KINDS	16
#define FATAL_KINDS	18
static const char *const fatal_names[FATAL_KINDS] = {
	"bad magic", "reserved pad", "reserved pad2", "unknown flag", "FUA on a non-WRITE",
	"name over 200 bytes", "name with a byte outside [A-Za-z0-9._-]", "name with /",
	"name starting with .", "missing name", "READ over max_io", "WRITE data_len != len",
	"payload over max_io", "offset + length past the largest file",
	"COPY to an invalid name", "ACQUIRE/BIND wait over the limit",
	"a wrong header digest", "a wrong data digest",
};

/*
 * A frame the Validation rules refuse: the server closes, unanswered.
 * With digests (@dg) the header's is right, so that the rule is what
 * refuses it, except in the digest kinds: a WRITE whose header, name or
 * payload lost a bit after its digests were taken.
 */
static void gen_fatal(struct fz_buf *b, int dg, uint64_t *s, uint64_t tag, uint32_t max_io,
		      int kind)
{
	struct archip_req rq = {
		.magic = htole32(ARCHIP_REQ_MAGIC), .op = ARCHIP_OP_READ,
		.tag = htole64(tag), .len = htole32(4096), .name_len = htole16(4),
	};
	char name[300] = "fz.a";
	uint32_t dlen = 0;

	switch (kind) {
	case 0:
		rq.magic = htole32(rnd(s) | 1);
		break;
	case 1:
		rq.pad = 1 + rnd(s) % 255;
		break;
	case 2:
		rq.pad2 = htole16(1 + rnd(s) % 65535);
		break;
	case 3:
		rq.flags = htole16(2u << (rnd(s) % 15));
		break;
	case 4:
		rq.flags = htole16(ARCHIP_REQ_FUA);
		break;
	case 5:
		memset(name, 'a', sizeof(name));
		rq.name_len = htole16(ARCHIP_NAME_MAX + 1 + rnd(s) % 99);
		break;
	case 6:	/* Latin-1 letters pass isalnum(); controls, spaces, ~ */
		name[rnd(s) % 4] = "\xc0\xe9\xff\x80 ~\t\x01*"[rnd(s) % 9];
		break;
	case 7:
		name[rnd(s) % 4] = '/';
		break;
	case 8:
		memcpy(name, rnd(s) % 2 ? ".." : ".a", 2);
		rq.name_len = htole16(2);
		break;
	case 9:
		rq.name_len = 0;
		break;
	case 10:
		rq.len = htole32(max_io + 1 + rnd(s) % 100000);
		break;
	case 11:
		rq.op = ARCHIP_OP_WRITE;
		dlen = 1 + rnd(s) % 4000;
		break;
	case 12:
		rq.op = ARCHIP_OP_WRITE;
		rq.len = htole32(max_io + 1 + rnd(s) % 1000);
		dlen = le32toh(rq.len);
		break;
	case 13:
		rq.op = rnd(s) % 2 ? ARCHIP_OP_WRITE_ZEROES : ARCHIP_OP_READ;
		rq.off = htole64(rnd(s) % 2 ? UINT64_MAX - rnd(s) % 4096 :
				 (1ull << 62) + ((uint64_t)rnd(s) << 12));
		break;
	case 14:
		rq.op = ARCHIP_OP_COPY;
		rq.len = 0;
		dlen = 2;
		break;
	case 15:
		rq.op = rnd(s) % 2 ? ARCHIP_OP_ACQUIRE : ARCHIP_OP_BIND;
		rq.len = htole32(ARCHIP_BIND_MAX_WAIT_MS + 1 + rnd(s) % 1000000);
		rq.epoch = htole32(1);
		break;
	case 16:
	case 17: {
		size_t at = b->len, flen;
		uint32_t len = 1 + rnd(s) % 8192;

		put_frame(b, 1, ARCHIP_OP_WRITE, 0, tag, 0, len, "fz.dg", 5, junk, len, 0);
		flen = b->len - at;
		/* 16: a bit of the header or its digest; 17: of the rest. */
		at += kind == 16 ? rnd(s) % (sizeof(rq) + 4) :
		      sizeof(rq) + 4 + rnd(s) % (flen - sizeof(rq) - 4);
		b->p[at] ^= 1 << (rnd(s) % 8);
		return;
	}
	}
	rq.data_len = htole32(dlen);
	put_header(b, &rq, dg);
	buf_put(b, name, le16toh(rq.name_len) < sizeof(name) ? le16toh(rq.name_len) : sizeof(name));
	/* Payloads are sent only where a rule is about their content. */
	if (kind == 14)
		buf_put(b, "..", 2);
	else if (kind == 11)
		buf_put(b, junk, dlen);
}

/* ------------------------------------------------------------ the streams */

struct fz_stream {
	struct archip_client c;
	struct fz_buf out;
	size_t sent;
	uint8_t in[1 << 17];
	size_t in_len;
	struct fz_expect ex[STREAM_MAX + 1];	/* by tag */
	int nframes, end, fatal_kind, dg;
	int eof, active, reset, cut, stalled;
	uint64_t last;
};

struct fz_stats {
	long frames, answered, fatal, trunc, resets, cuts, streams, dg_streams, hellos, good_ops;
	long failures;
	long per_fatal[FATAL_KINDS];
};

static struct fz_stats st;
static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&st_lock);
	if (st.failures++ < 20) {
		va_start(ap, fmt);
		fputs("fuzz: FAIL ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	pthread_mutex_unlock(&st_lock);
}

static int stream_open(struct fz_stream *z, uint64_t *s, long budget)
{
	int i, n;

	/* Half the streams with digests, half without. */
	if (archip_client_connect(&z->c, fz_host, fz_port, 0x66757a7a,
				  ARCHIP_FEAT_KNOWN & ~(rnd(s) % 2 ? ARCHIP_FEAT_DIGEST : 0))) {
		fail("stream connect: %s", z->c.error);
		return -1;
	}
	z->dg = z->c.digest;
	z->out.len = 0;
	z->sent = z->in_len = 0;
	z->eof = z->reset = z->cut = z->stalled = 0;
	static int next_fatal[2];

	n = 10 + rnd(s) % (STREAM_MAX / 4);
	if (n > budget)
		n = budget;
	/* A third answered whole, half ending in a refused frame, a sixth
	 * truncated; the refusal rules in turn, so a run of a few thousand
	 * frames uses every one.
	 */
	switch (rnd(s) % 6) {
	case 0: case 1:
		z->end = END_NONE;
		break;
	case 5:
		z->end = END_TRUNC;
		break;
	default:
		z->end = END_FATAL;
	}
	memset(z->ex, 0, sizeof(z->ex));
	for (i = 1; i <= n; i++) {
		if (i == n && z->end == END_FATAL) {
			z->fatal_kind = next_fatal[z->dg]++ % (z->dg ? FATAL_KINDS : PLAIN_KINDS);
			gen_fatal(&z->out, z->dg, s, i, z->c.max_io, z->fatal_kind);
		} else if (i == n && z->end == END_TRUNC) {
			/* A WRITE short of its payload; then garbage that
			 * fills it and cannot be a request header.
			 */
			uint32_t len = 64 + rnd(s) % 4000, have = rnd(s) % len, g = len - have + 64;
			struct archip_req rq = {
				.magic = htole32(ARCHIP_REQ_MAGIC), .op = ARCHIP_OP_WRITE,
				.tag = htole64(i), .len = htole32(len), .name_len = htole16(4),
				.data_len = htole32(len),
			};

			put_header(&z->out, &rq, z->dg);
			buf_put(&z->out, "fz.t", 4);
			buf_put(&z->out, junk, have);
			buf_put(&z->out, junk + 8192, g);
			z->ex[i].state = 1;
			z->ex[i].op = ARCHIP_OP_WRITE;
		} else {
			gen_good(&z->out, z->dg, s, i, z->c.max_io, &z->ex[i]);
		}
	}
	if (z->end != END_NONE)
		for (i = 1; i <= n; i++)
			z->ex[i].optional = 1;
	z->nframes = n;
	z->active = 1;
	z->last = ms_now();
	return n;
}

/* Parse the replies in z->in; -1 on a reply that breaks a rule. */
static int stream_replies(struct fz_stream *z)
{
	size_t at = 0, dg = z->dg ? ARCHIP_DIGEST_LEN : 0;

	while (z->in_len - at >= sizeof(struct archip_rep) + dg) {
		struct archip_rep r;
		struct fz_expect *e;
		uint64_t tag;
		int32_t status;
		uint32_t dlen, d;

		memcpy(&r, z->in + at, sizeof(r));
		memcpy(&d, z->in + at + sizeof(r), sizeof(d));
		if (dg && le32toh(d) != archip_crc32c(&r, sizeof(r))) {
			fail("a reply header with a wrong digest");
			return -1;
		}
		tag = le64toh(r.tag);
		status = (int32_t)le32toh(r.status);
		dlen = le32toh(r.data_len);
		if (le32toh(r.magic) != ARCHIP_REP_MAGIC) {
			fail("reply with bad magic %#x", le32toh(r.magic));
			return -1;
		}
		if (!tag || tag > (uint64_t)z->nframes || z->ex[tag].state != 1) {
			fail("reply to tag %" PRIu64 ", which expects none (op %u)", tag,
			     tag && tag <= (uint64_t)z->nframes ? z->ex[tag].op : 0);
			return -1;
		}
		e = &z->ex[tag];
		if (status > 0 || status < -4095) {
			fail("op %u: status %d is not 0 or an errno", e->op, status);
			return -1;
		}
		if (e->has_want && status != e->want) {
			fail("op %u: status %d, %d expected (fencing)", e->op, status, e->want);
			return -1;
		}
		if ((e->op == ARCHIP_OP_READ && !status && dlen != e->len) ||
		    (e->op == ARCHIP_OP_LIST && !status && (dlen < 8 || dlen > e->len)) ||
		    (e->op == ARCHIP_OP_STAT && !status && dlen != sizeof(struct archip_stat)) ||
		    (e->op == ARCHIP_OP_ACQUIRE && !status &&
		     dlen != sizeof(struct archip_acquire_rep)) ||
		    (status && dlen) ||
		    (!status && dlen && e->op != ARCHIP_OP_READ && e->op != ARCHIP_OP_LIST &&
		     e->op != ARCHIP_OP_STAT && e->op != ARCHIP_OP_ACQUIRE)) {
			fail("op %u, status %d: %u bytes of reply data", e->op, status, dlen);
			return -1;
		}
		if (dlen > sizeof(z->in) - sizeof(r) - 2 * dg) {
			fail("op %u: reply of %u bytes", e->op, dlen);
			return -1;
		}
		if (z->in_len - at < sizeof(r) + dg + dlen + (dlen ? dg : 0))
			break;
		if (dg && dlen) {
			memcpy(&d, z->in + at + sizeof(r) + dg + dlen, sizeof(d));
			if (le32toh(d) != archip_crc32c(z->in + at + sizeof(r) + dg, dlen)) {
				fail("op %u: reply data with a wrong digest", e->op);
				return -1;
			}
		}
		at += sizeof(r) + dg + dlen + (dlen ? dg : 0);
		e->state = 2;
		pthread_mutex_lock(&st_lock);
		st.answered++;
		pthread_mutex_unlock(&st_lock);
	}
	memmove(z->in, z->in + at, z->in_len - at);
	z->in_len -= at;
	return 0;
}

/* The stream is over (closed by the server, or all answered): judge it. */
static void stream_close(struct fz_stream *z)
{
	int i, missing = 0, first = 0;

	for (i = 1; i <= z->nframes; i++)
		if (z->ex[i].state == 1 && !z->ex[i].optional && !missing++)
			first = i;
	if (z->stalled)		/* reported as such */
		;
	else if (z->end == END_NONE && (z->eof || missing))
		fail("a stream of %d well-framed frames: %s (%s), %d unanswered from frame %d "
		     "(op %u), %zu of %zu bytes sent", z->nframes,
		     z->eof ? "closed by the server" : "not all answered",
		     z->reset ? "reset" : "end of stream", missing, first,
		     first ? z->ex[first].op : 0, z->sent, z->out.len);
	else if (z->end != END_NONE && !z->eof)
		fail("a stream ending in %s was not closed by the server",
		     z->end == END_TRUNC ? "a truncated frame" : fatal_names[z->fatal_kind]);
	pthread_mutex_lock(&st_lock);
	st.streams++;
	st.dg_streams += z->dg;
	st.frames += z->nframes;
	if (z->end == END_FATAL) {
		st.fatal++;
		st.per_fatal[z->fatal_kind]++;
	}
	st.trunc += z->end == END_TRUNC;
	st.resets += z->reset;
	st.cuts += z->cut;
	pthread_mutex_unlock(&st_lock);
	archip_client_close(&z->c);
	z->active = 0;
}

static int stream_done(const struct fz_stream *z)
{
	int i;

	if (z->eof)
		return 1;
	if (z->end != END_NONE || z->sent < z->out.len)
		return 0;
	for (i = 1; i <= z->nframes; i++)
		if (z->ex[i].state == 1)
			return 0;
	return 1;
}

static void stream_step(struct fz_stream *z, short revents, uint64_t *s)
{
	if (revents & POLLOUT && z->sent < z->out.len) {
		size_t n = z->out.len - z->sent, piece = 0;
		ssize_t w;

		/*
		 * Random pieces: a frame split across writes means the same.
		 * Single bytes (each its own segment: TCP_NODELAY) a sixteenth
		 * of the time, a few bytes, up to 8 KiB, or all that is left.
		 */
		switch (rnd(s) % 16) {
		case 0:
			piece = 1;
			break;
		case 1: case 2: case 3:
			piece = 1 + rnd(s) % 64;
			break;
		case 4: case 5: case 6: case 7:
			piece = 1 + rnd(s) % 8192;
			break;
		}
		if (piece && piece < n)
			n = piece;
		w = send(z->c.fd, z->out.p + z->sent, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			z->sent += w;
			z->last = ms_now();
		} else if (w < 0 && errno != EAGAIN) {
			z->sent = z->out.len;	/* closed under us: read the rest */
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = recv(z->c.fd, z->in + z->in_len, sizeof(z->in) - z->in_len,
				 MSG_DONTWAIT);

		if (r > 0) {
			z->in_len += r;
			z->last = ms_now();
			if (stream_replies(z))
				z->eof = 1;
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* A refused frame ends the connection at once: replies
			 * being sent then may be cut short (protocol.rst), and
			 * a close with our bytes unread is a reset.  Never on a
			 * stream with nothing wrong in it.
			 */
			z->reset = r < 0 && errno == ECONNRESET;
			if (z->in_len && z->end == END_NONE)
				fail("%zu bytes of a reply cut off by the close (%s)", z->in_len,
				     r == 0 ? "end of stream" : strerror(errno));
			z->cut = z->in_len > 0;
			z->eof = 1;
		}
	}
}

static void run_streams(long frames, uint64_t seed)
{
	static struct fz_stream zs[FUZZ_STREAMS];
	struct pollfd p[FUZZ_STREAMS];
	long left = frames;
	uint64_t s = seed;
	int i, live;

	for (;;) {
		for (i = 0; i < FUZZ_STREAMS; i++)
			if (!zs[i].active && left > 0) {
				int n = stream_open(&zs[i], &s, left);

				if (n < 0)
					return;
				left -= n;
			}
		live = 0;
		for (i = 0; i < FUZZ_STREAMS; i++) {
			p[i].fd = zs[i].active ? zs[i].c.fd : -1;
			p[i].events = POLLIN | (zs[i].sent < zs[i].out.len ? POLLOUT : 0);
			p[i].revents = 0;
			live += zs[i].active;
		}
		if (!live)
			break;
		if (poll(p, FUZZ_STREAMS, 100) < 0 && errno != EINTR)
			return;
		for (i = 0; i < FUZZ_STREAMS; i++) {
			if (!zs[i].active)
				continue;
			stream_step(&zs[i], p[i].revents, &s);
			if (stream_done(&zs[i])) {
				stream_close(&zs[i]);
			} else if (ms_now() - zs[i].last > fz_stall_ms) {
				fail("a stream %s stalled %d s (%zu of %zu bytes sent)",
				     zs[i].end == END_NONE ? "of well-framed frames" :
				     zs[i].end == END_TRUNC ? "ending in a truncated frame" :
				     fatal_names[zs[i].fatal_kind], (int)(fz_stall_ms / 1000),
				     zs[i].sent, zs[i].out.len);
				zs[i].stalled = 1;
				stream_close(&zs[i]);
			}
		}
	}
	for (i = 0; i < FUZZ_STREAMS; i++)
		free(zs[i].out.p);
}

/* ------------------------------------------------------------ the hellos */

enum { HZ_MAGIC, HZ_VERSION, HZ_LEN, HZ_GARBAGE, HZ_UNKNOWN_KEY, HZ_FORGED,
	HZ_REQ_FOR_PROOF, HZ_CUT, HZ_KINDS };
static const char *const hz_names[HZ_KINDS] = {
	"hello bad magic", "hello bad version", "hello bad length", "hello of garbage",
	"hello with an unknown key", "hello with the key's id and a forged proof",
	"a request where the proof belongs", "hello cut short",
};

static int plain_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(fz_port) };
	struct timeval tv = { .tv_sec = fz_stall_ms / 1000 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, fz_host, &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The server closes: EOF (or a reset) in time, nothing more sent. */
static int closes(int fd)
{
	char b[256];
	ssize_t n = recv(fd, b, sizeof(b), 0);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}


static const char *hello_one(int kind, uint64_t *s, uint64_t key_id)
{
	struct archip_hello h = {
		.magic = htole32(ARCHIP_HELLO_MAGIC), .version = htole16(ARCHIP_PROTO_VERSION),
		.len = htole16(sizeof(h)), .features = htole64(ARCHIP_FEAT_KNOWN),
		.required = htole64(key_id ? ARCHIP_FEAT_AUTH : 0), .client_id = htole64(kind),
		.max_io = htole32(1 << 20), .max_inflight = htole32(64),
		.key_id = htole64(key_id),
	};
	struct archip_hello_reply hr;
	struct archip_auth_reply ar;
	uint8_t buf[256];
	const char *bad = NULL;
	size_t i, n = sizeof(h);
	struct pollfd p;
	int fd;

	for (i = 0; i < sizeof(h.nonce); i++)
		h.nonce[i] = rnd(s);
	fd = plain_connect();
	if (fd < 0)
		return "could not connect";
	memcpy(buf, &h, sizeof(h));
	switch (kind) {
	case HZ_MAGIC:
		((struct archip_hello *)buf)->magic = htole32(rnd(s) | 1);
		break;
	case HZ_VERSION:
		((struct archip_hello *)buf)->version = htole16(rnd(s) % 2 ? 1 + rnd(s) % 2 :
								4 + rnd(s) % 60000);
		break;
	case HZ_LEN:
		((struct archip_hello *)buf)->len = htole16(rnd(s) % 2 ? rnd(s) % sizeof(h) :
							    4097 + rnd(s) % 60000);
		break;
	case HZ_GARBAGE:
		n = ARCHIP_HELLO_BASE_LEN + rnd(s) % (sizeof(buf) - ARCHIP_HELLO_BASE_LEN);
		for (i = 0; i < n; i++)
			buf[i] = rnd(s);
		break;
	case HZ_UNKNOWN_KEY:
		((struct archip_hello *)buf)->key_id = htole64(((uint64_t)rnd(s) << 32) | rnd(s) | 1);
		((struct archip_hello *)buf)->required = htole64(ARCHIP_FEAT_AUTH);
		break;
	case HZ_CUT:
		n = rnd(s) % sizeof(h);
		break;
	}
	if (archip_write_all(fd, buf, n)) {
		close(fd);
		return "could not send";
	}
	if (kind == HZ_CUT) {
		/* Half a hello is no hello: no reply while we wait. */
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 200) > 0 && recv(fd, buf, 1, MSG_DONTWAIT) > 0)
			bad = "answered a hello cut short";
		close(fd);
		return bad;
	}
	if (archip_read_all(fd, &hr, sizeof(hr))) {
		/* Garbage may not even read as a hello: a close will do. */
		close(fd);
		return kind == HZ_GARBAGE ? NULL : "closed without a refusal";
	}
	if (le32toh(hr.magic) != ARCHIP_HELLO_MAGIC) {
		bad = "hello reply with a bad magic";
	} else if (kind == HZ_FORGED || kind == HZ_REQ_FOR_PROOF) {
		if (le16toh(hr.status) != ARCHIP_HELLO_OK) {
			bad = "refused the key's id";
		} else {
			struct archip_auth a = { .magic = htole32(ARCHIP_AUTH_MAGIC) };
			struct archip_req rq = { .magic = htole32(ARCHIP_REQ_MAGIC),
						 .op = ARCHIP_OP_WRITE, .tag = htole64(1),
						 .len = htole32(4), .name_len = htole16(4),
						 .data_len = htole32(4) };

			for (i = 0; i < sizeof(a.proof); i++)
				a.proof[i] = rnd(s);
			if (kind == HZ_FORGED)
				archip_write_all(fd, &a, sizeof(a));
			else if (!archip_write_all(fd, &rq, sizeof(rq)))
				archip_write_all(fd, "fz.pwned", 8);
			if (archip_read_all(fd, &ar, sizeof(ar)))
				bad = "no verdict on a forged proof";
			else if (le32toh(ar.magic) != ARCHIP_AUTH_MAGIC ||
				 le16toh(ar.status) != ARCHIP_HELLO_BAD_PROOF)
				bad = "a forged proof was not refused";
		}
	} else if (le16toh(hr.status) == ARCHIP_HELLO_OK) {
		bad = "accepted";
	}
	if (!bad && !closes(fd))
		bad = "not closed after the refusal";
	close(fd);
	return bad;
}

struct hello_args {
	long n;
	uint64_t seed, key_id;
};

static void *hello_thread(void *arg)
{
	struct hello_args *a = arg;
	uint64_t s = a->seed;
	long i, done;

	for (i = 0, done = 0; done < a->n; i++) {
		int kind = i % HZ_KINDS;
		const char *bad;

		/* Without a key the forged kinds have no id to forge. */
		if (!a->key_id && (kind == HZ_UNKNOWN_KEY || kind == HZ_FORGED ||
				   kind == HZ_REQ_FOR_PROOF))
			continue;
		done++;
		bad = hello_one(kind, &s, a->key_id);
		if (bad)
			fail("%s: %s", hz_names[kind], bad);
		pthread_mutex_lock(&st_lock);
		st.hellos++;
		pthread_mutex_unlock(&st_lock);
	}
	return NULL;
}

/* ------------------------------------------------------- the good client */

static void *good_thread(void *arg)
{
	static uint8_t model[GOOD_SIZE], got[GOOD_SIZE], blk[GOOD_BLK * 16];
	uint64_t s = *(uint64_t *)arg;
	struct archip_client c;
	uint32_t off;
	long ops = 0;
	int st_;

	if (archip_client_connect(&c, fz_host, fz_port, 0x676f6f64, ARCHIP_FEAT_KNOWN)) {
		fail("good client: %s", c.error);
		return NULL;
	}
	st_ = archip_client_call(&c, ARCHIP_OP_DELETE, 0, "fzgood", 0, 0, NULL, 0, NULL, 0);
	if (st_)
		fail("good client: DELETE: %d", st_);
	for (;;) {
		uint32_t len = GOOD_BLK * (1 + rnd(&s) % 16), i;

		off = (rnd(&s) % (GOOD_SIZE / GOOD_BLK)) * GOOD_BLK;
		if (off + len > GOOD_SIZE)
			len = GOOD_SIZE - off;
		if (__atomic_load_n(&fz_done, __ATOMIC_ACQUIRE))
			break;
		switch (rnd(&s) % 10) {
		case 0: case 1: case 2: case 3:
			for (i = 0; i < len; i++)
				blk[i] = rnd(&s);
			st_ = archip_client_call(&c, ARCHIP_OP_WRITE, 0, "fzgood", off, len, blk,
						 len, NULL, 0);
			if (!st_)
				memcpy(model + off, blk, len);
			break;
		case 4:
			st_ = archip_client_call(&c, rnd(&s) % 2 ? ARCHIP_OP_DISCARD :
						 ARCHIP_OP_WRITE_ZEROES, 0, "fzgood", off, len,
						 NULL, 0, NULL, 0);
			if (!st_)
				memset(model + off, 0, len);
			break;
		default:
			st_ = archip_client_call(&c, ARCHIP_OP_READ, 0, "fzgood", off, len, NULL, 0,
						 got, len);
			if (!st_ && memcmp(got, model + off, len))
				fail("good client: READ %u+%u differs from what it wrote", off, len);
			break;
		}
		ops++;
		if (st_) {
			fail("good client: op failed: %d %s", st_, st_ == -EPROTO ? c.error : "");
			break;
		}
	}
	/* Last, the whole object, as the model has it. */
	for (off = 0; !st_ && off < GOOD_SIZE; off += sizeof(blk)) {
		st_ = archip_client_call(&c, ARCHIP_OP_READ, 0, "fzgood", off, sizeof(blk), NULL,
					 0, got, sizeof(blk));
		if (st_)
			fail("good client: final READ: %d", st_);
		else if (memcmp(got, model + off, sizeof(blk)))
			fail("good client: the object at %u differs from what it wrote", off);
		ops++;
	}
	archip_client_call(&c, ARCHIP_OP_DELETE, 0, "fzgood", 0, 0, NULL, 0, NULL, 0);
	archip_client_close(&c);
	pthread_mutex_lock(&st_lock);
	st.good_ops = ops;
	pthread_mutex_unlock(&st_lock);
	return NULL;
}

int archip_obj_fuzz(const char *host, uint16_t port, long frames, uint64_t seed,
		    unsigned int stall_s)
{
	struct hello_args ha = { .n = frames / 100 > 100 ? frames / 100 : 100,
				 .seed = (seed ^ 0x68656c6c6f) | 1,
				 .key_id = archip_client_key_id() };
	uint64_t gseed = (seed ^ 0x676f6f64) | 1, s = seed | 1, t0 = ms_now();
	pthread_t hello, good;
	int k, unused = 0;
	size_t i;

	fz_host = host;
	fz_port = port;
	if (stall_s)
		fz_stall_ms = stall_s * 1000ull;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = rnd(&s);
	if (pthread_create(&good, NULL, good_thread, &gseed) ||
	    pthread_create(&hello, NULL, hello_thread, &ha)) {
		perror("fuzz: pthread_create");
		return 1;
	}
	run_streams(frames - ha.n, s);
	pthread_join(hello, NULL);
	__atomic_store_n(&fz_done, 1, __ATOMIC_RELEASE);
	pthread_join(good, NULL);
	st.frames += st.hellos;
	printf("fuzz: %ld frames in %.1f s: %ld streams, %ld of them with digests (%ld "
	       "well-framed answered, %ld ended by a refused frame, %ld by a truncated one; of "
	       "those %ld closes were resets, %ld cut a reply short), %ld hostile hellos; the "
	       "good client %ld ops; %ld failures\n",
	       st.frames, (ms_now() - t0) / 1000.0, st.streams, st.dg_streams, st.answered,
	       st.fatal, st.trunc, st.resets, st.cuts, st.hellos, st.good_ops, st.failures);
	printf("fuzz: refused frames by rule:");
	for (k = 0; k < FATAL_KINDS; k++)
		printf(" %s %ld%s", fatal_names[k], st.per_fatal[k], k + 1 < FATAL_KINDS ? "," : "\n");
	for (k = 0; k < FATAL_KINDS; k++)
		unused += !st.per_fatal[k];
	/* A run long enough to use every rule that did not is no check of them. */
	if (frames >= FUZZ_FULL && (unused || !st.trunc)) {
		fprintf(stderr, "fuzz: FAIL %ld frames used every rule but %d, and %ld truncated "
			"frames: too few to check them\n", frames, unused, st.trunc);
		return 1;
	}
	return st.failures || !st.good_ops || st.frames < frames ? 1 : 0;
}
