// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake of a connection (Documentation/protocol.rst, "Handshake"):
 * the hello, its features and limits, and the mutual authentication
 * with the server's cluster keys (Documentation/security.rst); and the
 * key set itself, which a rotation replaces while the server runs.
 *
 * Rules:
 *  1. A server has one or two keys, or none and was started --insecure.
 *     With keys, every connection proves one of them before its first
 *     request is read; a client without a key, or with another, or whose
 *     proof is wrong, is refused with a reason and closed.
 *  2. The keys are read under keys_lock, copied to the stack and wiped
 *     there when the handshake is done; no log line names more than a
 *     key's id.
 *  3. A connection counts as authenticated with a key once it is marked
 *     so under keys_lock (c->auth_done); a new key set (KEYS) is
 *     installed under the same lock and then ends every marked
 *     connection whose key is gone.  A handshake that ends after the
 *     switch checks its key against the new set, so none slips through.
 */
#include <linux/random.h>
#include <linux/spinlock.h>
#include <net/sock.h>

#include "srv.h"
#include "auth.h"
#include "sockio.h"

#define HELLO_TIMEOUT		(10 * HZ)
#define HELLO_MAX_LEN		4096

/* The reply's fixed fields: the server proof covers them as sent. */
static void hello_fill(struct archip_hello_reply *hr, u16 status,
		       const char *reason)
{
	hr->magic = cpu_to_le32(ARCHIP_HELLO_MAGIC);
	hr->version = cpu_to_le16(ARCHIP_PROTO_VERSION);
	hr->status = cpu_to_le16(status);
	strscpy(hr->reason, reason, sizeof(hr->reason));
}

static int hello_send(struct archip_srv_conn *c,
		      const struct archip_hello_reply *hr)
{
	return archip_sock_send_kvec(c->sock, hr, sizeof(*hr), false);
}

/* Send a refusal: logged, and it ends the connection. */
static int hello_reply(struct archip_srv_conn *c,
		       struct archip_hello_reply *hr, u16 status,
		       const char *reason)
{
	hello_fill(hr, status, reason);
	pr_info_ratelimited("%pISpc: refused: %s\n", &c->peer, reason);
	return hello_send(c, hr) ?: -EPROTO;
}

static int auth_reply(struct archip_srv_conn *c, u16 status,
		      const char *reason)
{
	struct archip_auth_reply ar = {
		.magic = cpu_to_le32(ARCHIP_AUTH_MAGIC),
		.status = cpu_to_le16(status),
	};

	strscpy(ar.reason, reason, sizeof(ar.reason));
	if (status != ARCHIP_HELLO_OK)
		pr_warn_ratelimited("%pISpc: refused: %s\n", &c->peer, reason);
	return archip_sock_send_kvec(c->sock, &ar, sizeof(ar), false) ?:
	       (status ? -EPROTO : 0);
}

/* The key named @id in the server's set, or NULL (under keys_lock). */
static const struct archip_key *keyset_find(struct archip_srv *srv, u64 id)
{
	unsigned int i;

	lockdep_assert_held(&srv->keys_lock);
	for (i = 0; i < srv->nr_keys; i++)
		if (srv->keys[i].id == id)
			return &srv->keys[i];
	return NULL;
}

/* The client's proof, then rule 3.  0, or -EPROTO once refused. */
static int authenticate(struct archip_srv_conn *c,
			const struct archip_hello *h,
			const struct archip_hello_reply *hr,
			const struct archip_key *key, unsigned int gen)
{
	struct archip_srv *srv = c->srv;
	u8 want[ARCHIP_PROOF_LEN];
	struct archip_auth a;
	bool ok;
	int err;

	err = archip_sock_recv_kvec(c->sock, &a, sizeof(a));
	if (err)
		return err;
	if (le32_to_cpu(a.magic) != ARCHIP_AUTH_MAGIC || a.pad)
		return auth_reply(c, ARCHIP_HELLO_BAD_PROOF,
				  "not an authentication frame");
	err = archip_auth_client_proof(key->key, h, hr, want);
	if (err) {
		memzero_explicit(want, sizeof(want));
		return auth_reply(c, ARCHIP_HELLO_BAD_PROOF,
				  "cannot compute the proof (hmac(sha256) missing?)");
	}
	ok = archip_auth_proof_equal(want, a.proof);
	memzero_explicit(want, sizeof(want));
	if (!ok)
		return auth_reply(c, ARCHIP_HELLO_BAD_PROOF,
				  "wrong proof: not the key's holder, or a replay");

	spin_lock(&srv->keys_lock);
	ok = srv->keys_gen == gen || keyset_find(srv, key->id);
	if (ok) {
		c->key_id = key->id;
		c->auth_done = true;
	}
	spin_unlock(&srv->keys_lock);
	if (!ok)
		return auth_reply(c, ARCHIP_HELLO_UNKNOWN_KEY,
				  "the key was removed from this server meanwhile");
	return auth_reply(c, ARCHIP_HELLO_OK, "ok");
}

/* The features granted: what the client wants and we know, plus what it
 * requires, with AUTH exactly when this connection authenticates.
 */
static const char *pick_features(struct archip_srv_conn *c,
				 const struct archip_hello *h, bool auth)
{
	u64 required = le64_to_cpu(h->required);

	if (required & ~ARCHIP_FEAT_KNOWN)
		return "client requires features this server lacks";
	if ((required & ARCHIP_FEAT_AUTH) && !auth)
		return "client requires authentication: this server runs --insecure";
	c->features = ((le64_to_cpu(h->features) & ARCHIP_FEAT_KNOWN) | required) &
		      ~ARCHIP_FEAT_AUTH;
	if (auth)
		c->features |= ARCHIP_FEAT_AUTH;
	c->digest = c->features & ARCHIP_FEAT_DIGEST;
	return NULL;
}

static int hello_check(struct archip_srv_conn *c, struct archip_hello *h,
		       struct archip_hello_reply *hr, struct archip_key *key,
		       unsigned int *gen, bool busy)
{
	struct archip_srv *srv = c->srv;
	u64 key_id = le64_to_cpu(h->key_id);
	const struct archip_key *k;
	u32 io, inflight;
	const char *why;
	bool insecure;

	/* Rule 2: one look at the key set, the key copied out. */
	spin_lock(&srv->keys_lock);
	insecure = !srv->nr_keys;
	k = key_id ? keyset_find(srv, key_id) : NULL;
	if (k)
		*key = *k;
	*gen = srv->keys_gen;
	spin_unlock(&srv->keys_lock);
	if (!insecure && !key_id)
		return hello_reply(c, hr, ARCHIP_HELLO_NEED_KEY,
				   "this server needs the cluster key: the client has none");
	if (!insecure && !k)
		return hello_reply(c, hr, ARCHIP_HELLO_UNKNOWN_KEY,
				   "the client's key is not this server's: another key?");
	why = pick_features(c, h, !insecure);
	if (why)
		return hello_reply(c, hr, ARCHIP_HELLO_BAD_FEATURES, why);

	io = le32_to_cpu(h->max_io);
	inflight = le32_to_cpu(h->max_inflight);
	c->max_io = io ? min(io, srv->cfg.max_io) : srv->cfg.max_io;
	c->max_inflight = inflight ? min(inflight, srv->cfg.max_inflight) :
				     srv->cfg.max_inflight;
	if (c->max_io < 4096)
		return hello_reply(c, hr, ARCHIP_HELLO_BAD_LIMITS,
				   "max_io below 4096 bytes");
	if (busy)
		return hello_reply(c, hr, ARCHIP_HELLO_BUSY,
				   "server at its connection limit");
	return 0;
}

static int hello_recv(struct archip_srv_conn *c, struct archip_hello *h,
		      struct archip_hello_reply *hr)
{
	u32 len;
	int err;

	err = archip_sock_recv_kvec(c->sock, h, ARCHIP_HELLO_BASE_LEN);
	if (err)
		return err;
	if (le32_to_cpu(h->magic) != ARCHIP_HELLO_MAGIC)
		return hello_reply(c, hr, ARCHIP_HELLO_BAD_MAGIC,
				   "not an archip client (bad magic)");
	if (le16_to_cpu(h->version) != ARCHIP_PROTO_VERSION)
		return hello_reply(c, hr, ARCHIP_HELLO_BAD_VERSION,
				   "protocol version not supported (server speaks 3): update archip");
	len = le16_to_cpu(h->len);
	if (len < sizeof(*h) || len > HELLO_MAX_LEN)
		return hello_reply(c, hr, ARCHIP_HELLO_BAD_LIMITS,
				   "bad hello length");
	err = archip_sock_recv_kvec(c->sock, (u8 *)h + ARCHIP_HELLO_BASE_LEN,
				    sizeof(*h) - ARCHIP_HELLO_BASE_LEN);
	/* A newer client's longer hello: the extra fields are not for us. */
	return err ?: archip_sock_recv_skip(c->sock, len - sizeof(*h));
}

int archip_srv_handshake(struct archip_srv_conn *c, bool busy)
{
	struct archip_srv *srv = c->srv;
	struct archip_hello_reply hr = { };
	struct archip_hello h = { };
	struct archip_key key = { };
	unsigned int gen = 0;
	int err;

	c->sock->sk->sk_rcvtimeo = HELLO_TIMEOUT;
	err = hello_recv(c, &h, &hr);
	if (err)
		goto out;
	c->client_id = le64_to_cpu(h.client_id);
	err = hello_check(c, &h, &hr, &key, &gen, busy);
	if (err)
		goto out;

	hr.features = cpu_to_le64(c->features);
	hr.server_id = cpu_to_le64(srv->server_id);
	hr.max_io = cpu_to_le32(c->max_io);
	hr.max_inflight = cpu_to_le32(c->max_inflight);
	hello_fill(&hr, ARCHIP_HELLO_OK, "ok");
	if (c->features & ARCHIP_FEAT_AUTH) {
		get_random_bytes(hr.nonce, sizeof(hr.nonce));
		err = archip_auth_server_proof(key.key, &h, &hr, hr.proof);
		if (err) {
			err = hello_reply(c, &hr, ARCHIP_HELLO_BAD_FEATURES,
					  "cannot compute the proof (hmac(sha256) missing?)");
			goto out;
		}
	}
	err = hello_send(c, &hr);
	if (!err && (c->features & ARCHIP_FEAT_AUTH))
		err = authenticate(c, &h, &hr, &key, gen);
	if (!err && !(c->features & ARCHIP_FEAT_AUTH)) {
		spin_lock(&srv->keys_lock);
		c->auth_done = true;	/* insecure: rule 3 ends it at KEYS */
		spin_unlock(&srv->keys_lock);
	}
out:
	memzero_explicit(&key, sizeof(key));
	c->sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	return err;
}

/*
 * Install a new key set (1 or 2 keys; 0 only at start, --insecure) and
 * end every connection that authenticated with a key not in it (rule 3).
 * Returns how many were ended.
 */
unsigned int archip_srv_keys_set(struct archip_srv *srv,
				 const struct archip_key *keys,
				 unsigned int nr)
{
	struct archip_srv_conn *c;
	unsigned int ended = 0;
	bool gone;

	spin_lock(&srv->keys_lock);
	memzero_explicit(srv->keys, sizeof(srv->keys));
	memcpy(srv->keys, keys, nr * sizeof(*keys));
	srv->nr_keys = nr;
	srv->keys_gen++;
	spin_unlock(&srv->keys_lock);

	mutex_lock(&srv->conns_mutex);
	list_for_each_entry(c, &srv->conns, node) {
		spin_lock(&srv->keys_lock);
		gone = c->auth_done &&
		       (c->key_id ? !keyset_find(srv, c->key_id) : nr > 0);
		spin_unlock(&srv->keys_lock);
		if (!gone)
			continue;
		pr_info("%pISpc: key %016llx removed: connection ended\n",
			&c->peer, c->key_id);
		archip_srv_conn_end(c);
		ended++;
	}
	mutex_unlock(&srv->conns_mutex);
	return ended;
}
