// SPDX-License-Identifier: GPL-2.0
/*
 * archip_srv: the archip object server for storage nodes.  It serves the
 * objects of archip volumes, stored as files on the shared OCFS2 mount, to
 * hypervisors over TCP; it is configured through generic netlink
 * (archipctl server start|stop|status).
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/archip-netlink.h>

#include "srv.h"
#include "digest.h"

ARCHIP_DIGEST_DEFINE;

static int __init archip_srv_init(void)
{
	int err;

	err = archip_digest_init();
	if (err)
		return err;
	err = archip_srv_netlink_init();
	if (err)
		goto err_digest;
	pr_info("archip object server, protocol version %d\n",
		ARCHIP_PROTO_VERSION);
	return 0;

err_digest:
	archip_digest_exit();
	return err;
}

static void __exit archip_srv_exit(void)
{
	/* No new START can arrive once the family is gone. */
	archip_srv_netlink_uninit();
	mutex_lock(&archip_srv_mutex);
	archip_srv_stop();
	mutex_unlock(&archip_srv_mutex);
	archip_digest_exit();
}

module_init(archip_srv_init);
module_exit(archip_srv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("archip object server");
MODULE_AUTHOR("archip developers");
MODULE_VERSION(ARCHIP_VERSION);
MODULE_ALIAS_GENL_FAMILY(ARCHIP_SRV_GENL_NAME);
MODULE_SOFTDEP("pre: crc32c");
