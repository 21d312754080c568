// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake of a client connection (Documentation/protocol.rst): the
 * hello, every limit the server answers checked, and the mutual
 * authentication (Documentation/security.rst) with this hypervisor's
 * cluster key: every connection of a device that is not mapped --insecure
 * proves the key to the server and makes the server prove it back over
 * our fresh nonce, before any request.
 *
 * Rules:
 *  1. One key per module, set by the KEY command (archipctl key load, and
 *     map before it maps); a new key is used by every connection opened
 *     after it, reconnects included, so a rotation needs no remap.
 *  2. Readers copy the key under key_lock and wipe the copy when done; it
 *     is never logged, nor shown anywhere but as its id.
 */
#include <linux/net.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>

#include "blk_conn.h"
#include "auth.h"
#include "sockio.h"

/* What a server may answer in its hello and still be used. */
#define CONN_MIN_IO		4096
#define CONN_MAX_IO		(1U << 30)
#define CONN_MAX_INFLIGHT	65535

static DEFINE_SPINLOCK(key_lock);
static struct archip_key module_key;	/* under key_lock */
static bool module_key_set;

/* Rule 1.  The key's id in *id.  0 or -errno. */
int archip_blk_key_set(const u8 *key, u64 *id)
{
	struct archip_key k;
	int err;

	memcpy(k.key, key, sizeof(k.key));
	err = archip_auth_key_id(&k);
	if (!err) {
		spin_lock(&key_lock);
		module_key = k;
		module_key_set = true;
		spin_unlock(&key_lock);
		*id = k.id;
	}
	memzero_explicit(&k, sizeof(k));
	return err;
}

/* Rule 2: a copy of the key, or false if none was set. */
bool archip_blk_key_get(struct archip_key *out)
{
	bool set;

	spin_lock(&key_lock);
	set = module_key_set;
	if (set)
		*out = module_key;
	spin_unlock(&key_lock);
	return set;
}

/* The id of the key set, 0 if none. */
u64 archip_blk_key_id(void)
{
	u64 id;

	spin_lock(&key_lock);
	id = module_key_set ? module_key.id : 0;
	spin_unlock(&key_lock);
	return id;
}

void archip_blk_key_wipe(void)
{
	spin_lock(&key_lock);
	memzero_explicit(&module_key, sizeof(module_key));
	module_key_set = false;
	spin_unlock(&key_lock);
}

/*
 * After the server's hello reply: check its proof and make ours (the
 * frame to send).  No I/O here (blk_conn.c sends it and reads the
 * verdict).  0, or -errno with *why set for the map's caller and the log.
 */
static int auth_answer(const struct archip_key *key,
			   const struct archip_hello *h,
			   const struct archip_hello_reply *hr,
			   struct archip_auth *a, const char **why)
{
	u8 want[ARCHIP_PROOF_LEN];
	bool ok;
	int err;

	*why = "the object server did not authenticate: it runs --insecure";
	if (!(le64_to_cpu(hr->features) & ARCHIP_FEAT_AUTH))
		return -EACCES;
	*why = "cannot compute the proof: hmac(sha256) missing from this kernel";
	err = archip_auth_server_proof(key->key, h, hr, want);
	if (err)
		goto out;
	ok = archip_auth_proof_equal(want, hr->proof);
	*why = "the object server failed to prove the cluster key: not ours (an impostor?)";
	err = -EACCES;
	if (!ok)
		goto out;
	memset(a, 0, sizeof(*a));
	a->magic = cpu_to_le32(ARCHIP_AUTH_MAGIC);
	*why = "cannot compute the proof: hmac(sha256) missing from this kernel";
	err = archip_auth_client_proof(key->key, h, hr, a->proof);
out:
	memzero_explicit(want, sizeof(want));
	return err;
}

/* As archip_conn_recv(): a device's socket must not recurse into reclaim. */
static int hello_recv(struct socket *sock, void *buf, size_t len)
{
	unsigned int noreclaim = memalloc_noreclaim_save();
	int err = archip_sock_recv_kvec(sock, buf, len);

	memalloc_noreclaim_restore(noreclaim);
	return err;
}

/* Why a server refused our hello, in words that name the fix. */
static const char *refusal(u16 status)
{
	switch (status) {
	case ARCHIP_HELLO_BAD_VERSION:
		return "the object server speaks another protocol version: upgrade archip on all nodes";
	case ARCHIP_HELLO_NEED_KEY:
		return "the object server needs the cluster key: load it (archipctl key load)";
	case ARCHIP_HELLO_UNKNOWN_KEY:
		return "the object server has another cluster key: load the cluster's (archipctl key load)";
	case ARCHIP_HELLO_BAD_FEATURES:
		return "the object server lacks a feature we need (authentication? it may run --insecure)";
	case ARCHIP_HELLO_BUSY:
		return "the object server is at its connection limit";
	default:
		return "the object server refused the connection (see dmesg)";
	}
}

/* The hello reply: a server we can use, or why not. */
static int check_hello(const struct archip_hello_reply *hr, u64 required,
		       const char **why)
{
	u32 io = le32_to_cpu(hr->max_io), inflight = le32_to_cpu(hr->max_inflight);
	u16 status = le16_to_cpu(hr->status);

	*why = "not an archip object server";
	if (le32_to_cpu(hr->magic) != ARCHIP_HELLO_MAGIC)
		return -EPROTO;
	if (status != ARCHIP_HELLO_OK) {
		*why = refusal(status);
		return status == ARCHIP_HELLO_NEED_KEY ||
		       status == ARCHIP_HELLO_UNKNOWN_KEY ? -EACCES : -ECONNREFUSED;
	}
	*why = "the object server speaks another protocol version: upgrade archip on all nodes";
	if (le16_to_cpu(hr->version) != ARCHIP_PROTO_VERSION)
		return -EPROTO;
	*why = "the object server did not grant the locking and fencing features";
	if ((le64_to_cpu(hr->features) & required) != required)
		return -EPROTO;
	*why = "the object server answered impossible limits";
	if (io < CONN_MIN_IO || io > CONN_MAX_IO || io % 512 || !inflight ||
	    inflight > CONN_MAX_INFLIGHT)
		return -EPROTO;
	return 0;
}

/* Our proof, and the server's verdict on it. */
static int conn_auth(struct archip_conn *c, struct socket *sock,
		     const struct archip_key *key,
		     const struct archip_hello *h,
		     const struct archip_hello_reply *hr, const char **why)
{
	struct archip_auth_reply ar = { };
	struct archip_auth a;
	int err;

	err = auth_answer(key, h, hr, &a, why);
	if (err)
		goto out;
	*why = "the object server did not answer the authentication";
	err = archip_sock_send_kvec(sock, &a, sizeof(a), false);
	if (!err)
		err = hello_recv(sock, &ar, sizeof(ar));
	if (err)
		goto out;
	*why = "the object server sent no authentication verdict";
	err = -EPROTO;
	if (le32_to_cpu(ar.magic) != ARCHIP_AUTH_MAGIC)
		goto out;
	*why = "the object server refused our proof of the cluster key";
	err = le16_to_cpu(ar.status) == ARCHIP_HELLO_OK ? 0 : -EACCES;
	ar.reason[sizeof(ar.reason) - 1] = '\0';
out:
	if (err)
		pr_warn("%pISpc: %s (%s)\n", &c->addr, *why, ar.reason);
	memzero_explicit(&a, sizeof(a));
	return err;
}

/* The hello and its reply (and, with a key, the proofs). */
int archip_blk_handshake(struct archip_conn *c, struct socket *sock,
			 u64 client_id, bool auth, const char **why)
{
	const u64 required = ARCHIP_FEAT_LOCKS | ARCHIP_FEAT_FENCE |
			     (auth ? ARCHIP_FEAT_AUTH : 0);
	struct archip_hello h = {
		.magic = cpu_to_le32(ARCHIP_HELLO_MAGIC),
		.version = cpu_to_le16(ARCHIP_PROTO_VERSION),
		.len = cpu_to_le16(sizeof(h)),
		.features = cpu_to_le64(ARCHIP_FEAT_KNOWN &
					~(c->want_digest ? 0 : ARCHIP_FEAT_DIGEST)),
		.required = cpu_to_le64(required),
		.client_id = cpu_to_le64(client_id),
	};
	struct archip_hello_reply hr = { };
	struct archip_key key = { };
	int err;

	*why = "no cluster key loaded on this hypervisor: archipctl key load (or map --insecure)";
	if (auth && !archip_blk_key_get(&key))
		return -ENOKEY;
	if (auth)
		h.key_id = cpu_to_le64(key.id);
	get_random_bytes(h.nonce, sizeof(h.nonce));
	err = archip_sock_send_kvec(sock, &h, sizeof(h), false);
	/* The part every version sends first: a refusal may end there. */
	if (!err)
		err = hello_recv(sock, &hr, ARCHIP_HELLO_REPLY_BASE_LEN);
	if (!err && le32_to_cpu(hr.magic) == ARCHIP_HELLO_MAGIC &&
	    le16_to_cpu(hr.status) == ARCHIP_HELLO_OK)
		err = hello_recv(sock, (u8 *)&hr + ARCHIP_HELLO_REPLY_BASE_LEN,
				 sizeof(hr) - ARCHIP_HELLO_REPLY_BASE_LEN);
	if (err) {
		*why = "the object server did not answer the handshake";
		goto out;
	}
	err = check_hello(&hr, required, why);
	if (err) {
		hr.reason[sizeof(hr.reason) - 1] = '\0';
		pr_warn("%pISpc: %s (%s)\n", &c->addr, *why, hr.reason);
		goto out;
	}
	if (auth) {
		err = conn_auth(c, sock, &key, &h, &hr, why);
		if (err)
			goto out;
	}
	c->max_io = le32_to_cpu(hr.max_io);
	c->max_inflight = le32_to_cpu(hr.max_inflight);
	c->key_id = auth ? key.id : 0;
	/* From the first request on (an older server grants none). */
	c->digest = c->want_digest &&
		    (le64_to_cpu(hr.features) & ARCHIP_FEAT_DIGEST);
out:
	memzero_explicit(&key, sizeof(key));
	return err;
}

