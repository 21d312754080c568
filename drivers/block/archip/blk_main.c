// SPDX-License-Identifier: GPL-2.0
/*
 * archip_blk: archip volumes as block devices (/dev/archipN) on hypervisor
 * nodes, over the object servers of the storage nodes.  Mapped and
 * unmapped through generic netlink (archipctl map|unmap|list).
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include <linux/archip-netlink.h>
#include "blk.h"
#include "digest.h"

ARCHIP_DIGEST_DEFINE;

static int __init archip_blk_init(void)
{
	int err;

	err = archip_digest_init();
	if (err)
		return err;
	err = archip_dev_init();
	if (err)
		goto err_digest;
	err = archip_blk_netlink_init();
	if (err)
		goto err_dev;
	return 0;

err_dev:
	archip_dev_uninit();
err_digest:
	archip_digest_exit();
	return err;
}

static void __exit archip_blk_exit(void)
{
	archip_blk_netlink_uninit();
	archip_dev_uninit();
	archip_blk_key_wipe();
	archip_digest_exit();
}

module_init(archip_blk_init);
module_exit(archip_blk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("archip volumes as block devices");
MODULE_AUTHOR("archip developers");
MODULE_VERSION(ARCHIP_VERSION);
MODULE_ALIAS_GENL_FAMILY(ARCHIP_BLK_GENL_NAME);
MODULE_SOFTDEP("pre: crc32c");
