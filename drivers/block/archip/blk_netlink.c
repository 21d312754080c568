// SPDX-License-Identifier: GPL-2.0
/*
 * The "archip_blk" generic netlink family, modelled on nbd's: MAP answers
 * with the index of the new device, LIST is a dump, UNMAP takes an index,
 * KEY sets the cluster key (blk_hello.c) and answers with its id.
 * Strict attribute validation; every command is GENL_ADMIN_PERM, i.e.
 * needs CAP_NET_ADMIN (as nbd's family does: a caller that may configure
 * the network's endpoints may map a volume over it); every refusal
 * carries an extack message that archipctl prints.
 */
#include <linux/blkdev.h>
#include <linux/inet.h>
#include <net/genetlink.h>
#include <linux/archip-netlink.h>

#include "blk.h"

static const struct nla_policy blk_policy[ARCHIP_BLK_A_MAX + 1] = {
	[ARCHIP_BLK_A_INDEX]		= { .type = NLA_U32 },
	[ARCHIP_BLK_A_VOLUME]		= { .type = NLA_NUL_STRING,
					    .len = ARCHIP_VOL_NAME_MAX - 1 },
	[ARCHIP_BLK_A_SERVERS]		= { .type = NLA_NUL_STRING, .len = 512 },
	[ARCHIP_BLK_A_READ_ONLY]	= { .type = NLA_FLAG },
	[ARCHIP_BLK_A_NR_QUEUES]	= NLA_POLICY_RANGE(NLA_U32, 0, 16),
	[ARCHIP_BLK_A_QUEUE_DEPTH]	= NLA_POLICY_RANGE(NLA_U32, 1, 1024),
	[ARCHIP_BLK_A_LOSS_TIMEOUT]	= NLA_POLICY_RANGE(NLA_U32, 1, 3600),
	[ARCHIP_BLK_A_FORCE]		= { .type = NLA_FLAG },
	[ARCHIP_BLK_A_IO_TIMEOUT]	= NLA_POLICY_RANGE(NLA_U32, 1, 3600),
	[ARCHIP_BLK_A_KEY]		= NLA_POLICY_EXACT_LEN(ARCHIP_KEY_LEN),
	[ARCHIP_BLK_A_INSECURE]		= { .type = NLA_FLAG },
	[ARCHIP_BLK_A_NO_DIGEST]	= { .type = NLA_FLAG },
};

static struct genl_family blk_family;

static bool volume_name_ok(const char *s)
{
	if (!*s || *s == '.')
		return false;
	for (; *s; s++)
		if (!isalnum(*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* "A.B.C.D:PORT,..." */
static int parse_servers(char *list, struct archip_map_args *a)
{
	char *tok, *colon;
	u16 port;

	while ((tok = strsep(&list, ",")) != NULL) {
		struct sockaddr_in *sin;

		if (a->nr_servers == ARCHIP_BLK_MAX_SERVERS)
			return -E2BIG;
		sin = &a->servers[a->nr_servers];
		colon = strchr(tok, ':');
		port = ARCHIP_DEFAULT_PORT;
		if (colon) {
			*colon = '\0';
			if (kstrtou16(colon + 1, 10, &port) || !port)
				return -EINVAL;
		}
		if (!in4_pton(tok, -1, (u8 *)&sin->sin_addr.s_addr, -1, NULL))
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->nr_servers++;
	}
	return a->nr_servers ? 0 : -EINVAL;
}

static int fill_dev(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		    const struct archip_dev_info *d)
{
	char dev[DISK_NAME_LEN], srv[32];
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &blk_family, flags,
			  ARCHIP_BLK_CMD_LIST);
	if (!hdr)
		return -EMSGSIZE;
	snprintf(dev, sizeof(dev), "archip%d", d->index);
	snprintf(srv, sizeof(srv), "%pI4:%u", &d->server.sin_addr,
		 ntohs(d->server.sin_port));
	if (nla_put_u32(skb, ARCHIP_BLK_A_INDEX, d->index) ||
	    nla_put_string(skb, ARCHIP_BLK_A_DEVICE, dev) ||
	    nla_put_string(skb, ARCHIP_BLK_A_VOLUME, d->volume) ||
	    nla_put_u64_64bit(skb, ARCHIP_BLK_A_SIZE, d->size, ARCHIP_BLK_A_PAD) ||
	    nla_put_string(skb, ARCHIP_BLK_A_SERVER, srv) ||
	    nla_put_string(skb, ARCHIP_BLK_A_STATE, d->state) ||
	    nla_put_u32(skb, ARCHIP_BLK_A_EPOCH, d->epoch) ||
	    (d->key_id && nla_put_u64_64bit(skb, ARCHIP_BLK_A_KEY_ID, d->key_id,
					    ARCHIP_BLK_A_PAD)) ||
	    (d->read_only && nla_put_flag(skb, ARCHIP_BLK_A_READ_ONLY)) ||
	    (d->digest && nla_put_flag(skb, ARCHIP_BLK_A_DIGEST)) ||
	    nla_put_u64_64bit(skb, ARCHIP_BLK_A_DIGEST_ERRORS, d->digest_errors,
			      ARCHIP_BLK_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int list_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct archip_dev_info info;
	int pos = cb->args[0];

	while (!archip_dev_info(pos, &info)) {
		if (fill_dev(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			     NLM_F_MULTI, &info))
			break;
		pos++;
	}
	cb->args[0] = pos;
	return skb->len;
}

static int map_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct archip_map_args *args;
	const char *why = NULL;
	struct sk_buff *msg;
	char *servers;
	void *hdr;
	int err, index;

	if (!a[ARCHIP_BLK_A_VOLUME] || !a[ARCHIP_BLK_A_SERVERS]) {
		NL_SET_ERR_MSG(info->extack, "MAP needs a volume and servers");
		return -EINVAL;
	}
	args = kzalloc(sizeof(*args), GFP_KERNEL);
	servers = nla_strdup(a[ARCHIP_BLK_A_SERVERS], GFP_KERNEL);
	err = -ENOMEM;
	if (!args || !servers)
		goto out;
	nla_strscpy(args->volume, a[ARCHIP_BLK_A_VOLUME], sizeof(args->volume));
	err = -EINVAL;
	if (!volume_name_ok(args->volume)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_BLK_A_VOLUME],
				    "bad volume name");
		goto out;
	}
	if (parse_servers(servers, args)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_BLK_A_SERVERS],
				    "servers must be IPv4 A.B.C.D[:PORT], comma separated, at most 8");
		goto out;
	}
	args->read_only = nla_get_flag(a[ARCHIP_BLK_A_READ_ONLY]);
	args->insecure = nla_get_flag(a[ARCHIP_BLK_A_INSECURE]);
	args->no_digest = nla_get_flag(a[ARCHIP_BLK_A_NO_DIGEST]);
	if (!args->insecure && !archip_blk_key_id()) {
		NL_SET_ERR_MSG(info->extack,
			       "no cluster key loaded on this hypervisor: archipctl key load (or map --insecure)");
		err = -ENOKEY;
		goto out;
	}
	if (a[ARCHIP_BLK_A_NR_QUEUES])
		args->nr_queues = nla_get_u32(a[ARCHIP_BLK_A_NR_QUEUES]);
	if (a[ARCHIP_BLK_A_QUEUE_DEPTH])
		args->queue_depth = nla_get_u32(a[ARCHIP_BLK_A_QUEUE_DEPTH]);
	if (a[ARCHIP_BLK_A_LOSS_TIMEOUT])
		args->loss_timeout = nla_get_u32(a[ARCHIP_BLK_A_LOSS_TIMEOUT]);
	if (a[ARCHIP_BLK_A_IO_TIMEOUT])
		args->io_timeout = nla_get_u32(a[ARCHIP_BLK_A_IO_TIMEOUT]);

	err = archip_dev_map(args, &index, &why);
	if (err) {
		/* why points to a string literal, as extack messages must. */
		if (why && info->extack)
			info->extack->_msg = why;
		goto out;
	}
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &blk_family, 0, ARCHIP_BLK_CMD_MAP);
	if (!hdr || nla_put_u32(msg, ARCHIP_BLK_A_INDEX, index)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	kfree(servers);
	kfree(args);
	return err;
}

static int unmap_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *why = NULL;
	int err;

	if (!info->attrs[ARCHIP_BLK_A_INDEX]) {
		NL_SET_ERR_MSG(info->extack, "UNMAP needs a device index");
		return -EINVAL;
	}
	err = archip_dev_unmap(nla_get_u32(info->attrs[ARCHIP_BLK_A_INDEX]),
			       nla_get_flag(info->attrs[ARCHIP_BLK_A_FORCE]), &why);
	if (err && why && info->extack)
		info->extack->_msg = why;
	return err;
}

static int key_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	u64 id;
	int err;

	if (!info->attrs[ARCHIP_BLK_A_KEY]) {
		NL_SET_ERR_MSG(info->extack, "KEY needs a key");
		return -EINVAL;
	}
	err = archip_blk_key_set(nla_data(info->attrs[ARCHIP_BLK_A_KEY]), &id);
	if (err) {
		NL_SET_ERR_MSG(info->extack,
			       "cannot use hmac(sha256): is CONFIG_CRYPTO_HMAC and SHA256 in this kernel?");
		return err;
	}
	pr_info("cluster key %016llx loaded\n", id);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &blk_family, 0, ARCHIP_BLK_CMD_KEY);
	if (!hdr || nla_put_u64_64bit(msg, ARCHIP_BLK_A_KEY_ID, id,
				      ARCHIP_BLK_A_PAD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops blk_ops[] = {
	{
		.cmd = ARCHIP_BLK_CMD_MAP,
		.doit = map_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_BLK_CMD_UNMAP,
		.doit = unmap_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_BLK_CMD_LIST,
		.dumpit = list_dumpit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_BLK_CMD_KEY,
		.doit = key_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family blk_family __ro_after_init = {
	.name = ARCHIP_BLK_GENL_NAME,
	.version = ARCHIP_BLK_GENL_VERSION,
	.maxattr = ARCHIP_BLK_A_MAX,
	.policy = blk_policy,
	.module = THIS_MODULE,
	.small_ops = blk_ops,
	.n_small_ops = ARRAY_SIZE(blk_ops),
	.resv_start_op = ARCHIP_BLK_CMD_LIST + 1,
};

int __init archip_blk_netlink_init(void)
{
	return genl_register_family(&blk_family);
}

void archip_blk_netlink_uninit(void)
{
	genl_unregister_family(&blk_family);
}
