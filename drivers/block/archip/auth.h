/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake's cryptography, shared by archip_srv and archip_blk (each
 * module gets its own copy of these small functions): key ids and proofs,
 * HMAC-SHA256 through the kernel crypto API (<linux/archip.h> defines
 * what goes into each; Documentation/security.rst why).
 *
 * A key never leaves the module that was given it: no log line, sysfs or
 * debugfs file shows it; only its id is shown.  Copies on the stack are
 * wiped with memzero_explicit() by their owners.
 */
#ifndef _ARCHIP_AUTH_H
#define _ARCHIP_AUTH_H

#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <linux/err.h>
#include <linux/string.h>
#include "compat.h"
#include <linux/archip.h>

struct archip_key {
	u8 key[ARCHIP_KEY_LEN];
	u64 id;
};

/* HMAC-SHA256(key, label || a || b) into out.  0 or -errno. */
static inline int archip_auth_hmac(const u8 *key, const char *label,
				   const void *a, size_t alen,
				   const void *b, size_t blen,
				   u8 out[ARCHIP_PROOF_LEN])
{
	struct crypto_shash *tfm;
	int err;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = crypto_shash_setkey(tfm, key, ARCHIP_KEY_LEN);
	if (!err) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		err = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, label, strlen(label)) ?:
		      crypto_shash_update(desc, a, alen) ?:
		      crypto_shash_update(desc, b, blen) ?:
		      crypto_shash_final(desc, out);
		shash_desc_zero(desc);
	}
	crypto_free_shash(tfm);
	return err;
}

/* Fill k->id from k->key.  0 or -errno. */
static inline int archip_auth_key_id(struct archip_key *k)
{
	u8 mac[ARCHIP_PROOF_LEN];
	int err;

	err = archip_auth_hmac(k->key, ARCHIP_AUTH_KEY_ID_LABEL, NULL, 0,
			       NULL, 0, mac);
	if (!err)
		k->id = get_unaligned_le64(mac);
	memzero_explicit(mac, sizeof(mac));
	return err;
}

/* The server's proof covers the reply up to the proof itself. */
static inline int archip_auth_server_proof(const u8 *key,
					   const struct archip_hello *h,
					   const struct archip_hello_reply *hr,
					   u8 out[ARCHIP_PROOF_LEN])
{
	return archip_auth_hmac(key, ARCHIP_AUTH_SERVER_LABEL, h, sizeof(*h),
				hr, offsetof(struct archip_hello_reply, proof),
				out);
}

static inline int archip_auth_client_proof(const u8 *key,
					   const struct archip_hello *h,
					   const struct archip_hello_reply *hr,
					   u8 out[ARCHIP_PROOF_LEN])
{
	return archip_auth_hmac(key, ARCHIP_AUTH_CLIENT_LABEL, h, sizeof(*h),
				hr, sizeof(*hr), out);
}

/* Constant time: a proof is never compared byte by byte with early exit. */
static inline bool archip_auth_proof_equal(const u8 *a, const u8 *b)
{
	return !crypto_memneq(a, b, ARCHIP_PROOF_LEN);
}

#endif
