/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC-32C digests of frames (ARCHIP_FEAT_DIGEST, <linux/archip.h>;
 * Documentation/protocol.rst, "Digests"), shared by archip_srv and
 * archip_blk: each module defines archip_crc_tfm (ARCHIP_DIGEST_DEFINE)
 * and sets it up once at module init, so a frame costs no allocation.
 * The kernel's "crc32c" shash keeps the running CRC as the u32 of its
 * context (as lib/libcrc32c.c relies on); the hardware version is used
 * where the CPU has it.
 *
 * A digest is archip_crc_final(archip_crc(ARCHIP_CRC_INIT, ...) ...).
 * Process context only (the CPU's vector unit may be used).
 */
#ifndef _ARCHIP_DIGEST_H
#define _ARCHIP_DIGEST_H

#include <crypto/hash.h>
#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/archip.h>

extern struct crypto_shash *archip_crc_tfm;

#define ARCHIP_DIGEST_DEFINE	struct crypto_shash *archip_crc_tfm

#define ARCHIP_CRC_INIT		(~0U)

static inline u32 archip_crc(u32 crc, const void *p, size_t len)
{
	SHASH_DESC_ON_STACK(d, archip_crc_tfm);

	d->tfm = archip_crc_tfm;
	*(u32 *)shash_desc_ctx(d) = crc;
	/* crc32c's update cannot fail */
	crypto_shash_update(d, p, len);
	return *(u32 *)shash_desc_ctx(d);
}

static inline u32 archip_crc_final(u32 crc)
{
	return ~crc;
}

/* Over @len bytes of a (possibly multi-page) page range. */
static inline u32 archip_crc_page(u32 crc, struct page *page,
				  unsigned int off, unsigned int len)
{
	while (len) {
		struct page *p = nth_page(page, off / PAGE_SIZE);
		unsigned int o = off % PAGE_SIZE;
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - o);
		void *v = kmap_local_page(p);

		crc = archip_crc(crc, v + o, n);
		kunmap_local(v);
		off += n;
		len -= n;
	}
	return crc;
}

/* Once per module: the transform, checked against the standard's value. */
static inline int archip_digest_init(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("crc32c", 0, 0);

	if (IS_ERR(tfm)) {
		pr_err("no crc32c in the kernel crypto API (%ld): load crc32c\n",
		       PTR_ERR(tfm));
		return PTR_ERR(tfm);
	}
	if (crypto_shash_descsize(tfm) != sizeof(u32)) {
		pr_err("crc32c (%s) keeps no plain u32 state\n",
		       crypto_shash_driver_name(tfm));
		crypto_free_shash(tfm);
		return -EINVAL;
	}
	archip_crc_tfm = tfm;
	if (archip_crc_final(archip_crc(ARCHIP_CRC_INIT, "123456789", 9)) !=
	    ARCHIP_CRC32C_CHECK) {
		pr_err("crc32c (%s) gives wrong digests\n",
		       crypto_shash_driver_name(tfm));
		crypto_free_shash(tfm);
		archip_crc_tfm = NULL;
		return -EINVAL;
	}
	return 0;
}

static inline void archip_digest_exit(void)
{
	crypto_free_shash(archip_crc_tfm);
	archip_crc_tfm = NULL;
}

#endif
