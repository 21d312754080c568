// SPDX-License-Identifier: GPL-2.0
/*
 * The "archip_srv" generic netlink family: START, STOP, STATUS and KEYS of
 * this node's object server.  All commands need CAP_NET_ADMIN; attributes are
 * validated strictly by the policy, and every refusal carries an extack
 * message that archipctl prints.
 */
#include <net/genetlink.h>
#include <linux/archip-netlink.h>

#include "srv.h"

#define DEFAULT_MAX_CONNS	1024
#define DEFAULT_LEASE		20
#define DEFAULT_MAX_IO		(1u << 20)
#define DEFAULT_MAX_INFLIGHT	128
#define LIMIT_MAX_IO		(16u << 20)

static const struct nla_policy srv_policy[ARCHIP_SRV_A_MAX + 1] = {
	[ARCHIP_SRV_A_ADDR]		= { .type = NLA_BE32 },
	[ARCHIP_SRV_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[ARCHIP_SRV_A_ROOT]		= { .type = NLA_NUL_STRING,
					    .len = PATH_MAX - 1 },
	[ARCHIP_SRV_A_MAX_CONNS]	= NLA_POLICY_RANGE(NLA_U32, 1, 4096),
	[ARCHIP_SRV_A_MAX_IO]		= { .type = NLA_U32 },
	[ARCHIP_SRV_A_MAX_INFLIGHT]	= NLA_POLICY_RANGE(NLA_U32, 1, 1024),
	[ARCHIP_SRV_A_LEASE]		= NLA_POLICY_RANGE(NLA_U32, 3, 3600),
	[ARCHIP_SRV_A_KEY]		= NLA_POLICY_EXACT_LEN(ARCHIP_KEY_LEN),
	[ARCHIP_SRV_A_KEY2]		= NLA_POLICY_EXACT_LEN(ARCHIP_KEY_LEN),
	[ARCHIP_SRV_A_INSECURE]		= { .type = NLA_FLAG },
};

/*
 * The keys of START or KEYS, with their ids: 0, 1 or 2 of them; a KEY2
 * without a KEY, or the same key twice, is refused.
 */
static int get_keys(struct genl_info *info, struct archip_key *keys,
		    unsigned int *nr)
{
	static const int attrs[] = { ARCHIP_SRV_A_KEY, ARCHIP_SRV_A_KEY2 };
	struct nlattr **a = info->attrs;
	unsigned int i;
	int err;

	*nr = 0;
	if (a[ARCHIP_SRV_A_KEY2] && !a[ARCHIP_SRV_A_KEY]) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_SRV_A_KEY2],
				    "a second key needs a first");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(attrs) && a[attrs[i]]; i++) {
		nla_memcpy(keys[i].key, a[attrs[i]], ARCHIP_KEY_LEN);
		err = archip_auth_key_id(&keys[i]);
		if (err) {
			NL_SET_ERR_MSG(info->extack,
				       "cannot use hmac(sha256): is CONFIG_CRYPTO_HMAC and SHA256 in this kernel?");
			return err;
		}
		*nr = i + 1;
	}
	if (*nr == 2 && keys[0].id == keys[1].id) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_SRV_A_KEY2],
				    "the second key is the first one again");
		return -EINVAL;
	}
	return 0;
}

static struct genl_family srv_family;

static int start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct archip_key keys[ARCHIP_SRV_MAX_KEYS] = { };
	struct archip_srv_config *cfg;
	unsigned int nr_keys;
	struct nlattr **a = info->attrs;
	const char *why = NULL;
	int err;

	if (!a[ARCHIP_SRV_A_ROOT] || !a[ARCHIP_SRV_A_PORT]) {
		NL_SET_ERR_MSG(info->extack, "START needs a store root and a port");
		return -EINVAL;
	}
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	cfg->addr = a[ARCHIP_SRV_A_ADDR] ?
		    nla_get_in_addr(a[ARCHIP_SRV_A_ADDR]) : htonl(INADDR_ANY);
	cfg->port = nla_get_u16(a[ARCHIP_SRV_A_PORT]);
	nla_strscpy(cfg->root, a[ARCHIP_SRV_A_ROOT], sizeof(cfg->root));
	cfg->max_conns = a[ARCHIP_SRV_A_MAX_CONNS] ?
			 nla_get_u32(a[ARCHIP_SRV_A_MAX_CONNS]) : DEFAULT_MAX_CONNS;
	cfg->max_io = a[ARCHIP_SRV_A_MAX_IO] ?
		      nla_get_u32(a[ARCHIP_SRV_A_MAX_IO]) : DEFAULT_MAX_IO;
	cfg->max_inflight = a[ARCHIP_SRV_A_MAX_INFLIGHT] ?
			    nla_get_u32(a[ARCHIP_SRV_A_MAX_INFLIGHT]) :
			    DEFAULT_MAX_INFLIGHT;
	cfg->lease = a[ARCHIP_SRV_A_LEASE] ?
		     nla_get_u32(a[ARCHIP_SRV_A_LEASE]) : DEFAULT_LEASE;
	if (cfg->max_io < 4096 || cfg->max_io > LIMIT_MAX_IO ||
	    cfg->max_io % 4096) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_SRV_A_MAX_IO],
				    "max_io must be a multiple of 4 KiB, 4 KiB to 16 MiB");
		kfree(cfg);
		return -EINVAL;
	}
	if (cfg->root[0] != '/') {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_SRV_A_ROOT],
				    "the store root must be an absolute path");
		kfree(cfg);
		return -EINVAL;
	}

	err = get_keys(info, keys, &nr_keys);
	if (err)
		goto out;
	err = -EINVAL;
	if (nr_keys && a[ARCHIP_SRV_A_INSECURE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[ARCHIP_SRV_A_INSECURE],
				    "a key and --insecure exclude each other");
		goto out;
	}
	if (!nr_keys && !a[ARCHIP_SRV_A_INSECURE]) {
		NL_SET_ERR_MSG(info->extack,
			       "the server needs the cluster key (archipctl key generate; --key-file), or --insecure");
		goto out;
	}

	mutex_lock(&archip_srv_mutex);
	err = archip_srv_start(cfg, keys, nr_keys, &why);
	mutex_unlock(&archip_srv_mutex);
	/* why points to a string literal, as extack messages must. */
	if (err && why && info->extack)
		info->extack->_msg = why;
out:
	memzero_explicit(keys, sizeof(keys));
	kfree(cfg);
	return err;
}

static int keys_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct archip_key keys[ARCHIP_SRV_MAX_KEYS] = { };
	unsigned int nr, ended = 0;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = get_keys(info, keys, &nr);
	if (err)
		goto out;
	err = -EINVAL;
	if (!nr) {
		NL_SET_ERR_MSG(info->extack, "KEYS needs at least one key");
		goto out;
	}
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	mutex_lock(&archip_srv_mutex);
	if (archip_srv_running)
		ended = archip_srv_keys_set(archip_srv_running, keys, nr);
	else
		err = -ENOENT;
	mutex_unlock(&archip_srv_mutex);
	if (err == -ENOENT) {
		NL_SET_ERR_MSG(info->extack, "no server is running on this node");
		nlmsg_free(msg);
		goto out;
	}
	pr_info("keys replaced: %016llx%s; %u connection(s) ended\n",
		keys[0].id, nr > 1 ? " and a second" : "", ended);
	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &srv_family, 0, ARCHIP_SRV_CMD_KEYS);
	if (!hdr || nla_put_u32(msg, ARCHIP_SRV_A_ENDED, ended)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	memzero_explicit(keys, sizeof(keys));
	return err;
}

static int stop_doit(struct sk_buff *skb, struct genl_info *info)
{
	int err = 0;

	mutex_lock(&archip_srv_mutex);
	if (archip_srv_running) {
		archip_srv_stop();
	} else {
		NL_SET_ERR_MSG(info->extack, "no server is running on this node");
		err = -ENOENT;
	}
	mutex_unlock(&archip_srv_mutex);
	return err;
}

static int put_ops(struct sk_buff *skb, struct archip_srv *srv)
{
	struct nlattr *ops, *op;
	int i;

	ops = nla_nest_start(skb, ARCHIP_SRV_A_OPS);
	if (!ops)
		return -EMSGSIZE;
	for (i = ARCHIP_OP_READ; i <= ARCHIP_OP_MAX; i++) {
		op = nla_nest_start(skb, i);
		if (!op ||
		    nla_put_u64_64bit(skb, ARCHIP_OPS_A_COUNT,
				      atomic64_read(&srv->ops[i].count),
				      ARCHIP_OPS_A_PAD) ||
		    nla_put_u64_64bit(skb, ARCHIP_OPS_A_ERRORS,
				      atomic64_read(&srv->ops[i].errors),
				      ARCHIP_OPS_A_PAD) ||
		    nla_put_u64_64bit(skb, ARCHIP_OPS_A_BYTES,
				      atomic64_read(&srv->ops[i].bytes),
				      ARCHIP_OPS_A_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, op);
	}
	nla_nest_end(skb, ops);
	return 0;
}

static int put_conns(struct sk_buff *skb, struct archip_srv *srv)
{
	struct archip_srv_conn *c;
	struct nlattr *conns, *nest;
	int err = 0;

	conns = nla_nest_start(skb, ARCHIP_SRV_A_CONNS);
	if (!conns)
		return -EMSGSIZE;
	mutex_lock(&srv->conns_mutex);
	list_for_each_entry(c, &srv->conns, node) {
		nest = nla_nest_start(skb, ARCHIP_SRV_A_CONN);
		if (!nest ||
		    nla_put_in_addr(skb, ARCHIP_CONN_A_PEER_ADDR,
				    c->peer.sin_addr.s_addr) ||
		    nla_put_u16(skb, ARCHIP_CONN_A_PEER_PORT,
				ntohs(c->peer.sin_port)) ||
		    nla_put_u64_64bit(skb, ARCHIP_CONN_A_CLIENT_ID,
				      c->client_id, ARCHIP_CONN_A_PAD) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_INFLIGHT,
				READ_ONCE(c->inflight)) ||
		    nla_put_u64_64bit(skb, ARCHIP_CONN_A_REQUESTS,
				      atomic64_read(&c->requests),
				      ARCHIP_CONN_A_PAD) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_LOCKS,
				READ_ONCE(c->nr_locks)) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_EPOCH, READ_ONCE(c->epoch)) ||
		    (READ_ONCE(c->key_id) &&
		     nla_put_u64_64bit(skb, ARCHIP_CONN_A_KEY_ID,
				       READ_ONCE(c->key_id), ARCHIP_CONN_A_PAD)) ||
		    (READ_ONCE(c->digest) &&
		     nla_put_flag(skb, ARCHIP_CONN_A_DIGEST)) ||
		    /* bound is whole once bound_set is (srv_lock.c) */
		    (smp_load_acquire(&c->bound_set) &&
		     nla_put_string(skb, ARCHIP_CONN_A_BOUND, c->bound))) {
			err = -EMSGSIZE;
			break;
		}
		nla_nest_end(skb, nest);
	}
	mutex_unlock(&srv->conns_mutex);
	if (err)
		return err;
	nla_nest_end(skb, conns);
	return 0;
}

/* Ids only: a key itself is never reported. */
static int put_keys(struct sk_buff *skb, struct archip_srv *srv)
{
	u64 ids[ARCHIP_SRV_MAX_KEYS] = { };
	unsigned int nr, i;

	spin_lock(&srv->keys_lock);
	nr = srv->nr_keys;
	for (i = 0; i < nr; i++)
		ids[i] = srv->keys[i].id;
	spin_unlock(&srv->keys_lock);
	if (!nr)
		return nla_put_flag(skb, ARCHIP_SRV_A_INSECURE);
	if (nla_put_u64_64bit(skb, ARCHIP_SRV_A_KEY_ID, ids[0], ARCHIP_SRV_A_PAD))
		return -EMSGSIZE;
	if (nr > 1 &&
	    nla_put_u64_64bit(skb, ARCHIP_SRV_A_KEY2_ID, ids[1], ARCHIP_SRV_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct archip_srv *srv;
	struct sk_buff *msg;
	void *hdr;
	int err = -EMSGSIZE;

	msg = genlmsg_new(64 * 1024, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &srv_family, 0, ARCHIP_SRV_CMD_STATUS);
	if (!hdr)
		goto err_free;

	mutex_lock(&archip_srv_mutex);
	srv = archip_srv_running;
	if (nla_put_u8(msg, ARCHIP_SRV_A_RUNNING, !!srv))
		goto err_unlock;
	if (srv &&
	    (nla_put_in_addr(msg, ARCHIP_SRV_A_ADDR, srv->cfg.addr) ||
	     nla_put_u16(msg, ARCHIP_SRV_A_PORT, srv->cfg.port) ||
	     nla_put_string(msg, ARCHIP_SRV_A_ROOT, srv->cfg.root) ||
	     nla_put_u32(msg, ARCHIP_SRV_A_MAX_CONNS, srv->cfg.max_conns) ||
	     nla_put_u32(msg, ARCHIP_SRV_A_MAX_IO, srv->cfg.max_io) ||
	     nla_put_u32(msg, ARCHIP_SRV_A_MAX_INFLIGHT, srv->cfg.max_inflight) ||
	     nla_put_u32(msg, ARCHIP_SRV_A_LEASE, srv->cfg.lease) ||
	     nla_put_u64_64bit(msg, ARCHIP_SRV_A_DIGEST_ERRORS,
			       atomic64_read(&srv->digest_errors), ARCHIP_SRV_A_PAD) ||
	     put_keys(msg, srv) || put_ops(msg, srv) || put_conns(msg, srv)))
		goto err_unlock;
	mutex_unlock(&archip_srv_mutex);

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&archip_srv_mutex);
	NL_SET_ERR_MSG(info->extack, "status does not fit in one message");
err_free:
	nlmsg_free(msg);
	return err;
}

static const struct genl_small_ops srv_ops[] = {
	{
		.cmd = ARCHIP_SRV_CMD_START,
		.doit = start_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_SRV_CMD_STOP,
		.doit = stop_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_SRV_CMD_STATUS,
		.doit = status_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ARCHIP_SRV_CMD_KEYS,
		.doit = keys_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family srv_family __ro_after_init = {
	.name = ARCHIP_SRV_GENL_NAME,
	.version = ARCHIP_SRV_GENL_VERSION,
	.maxattr = ARCHIP_SRV_A_MAX,
	.policy = srv_policy,
	.module = THIS_MODULE,
	.small_ops = srv_ops,
	.n_small_ops = ARRAY_SIZE(srv_ops),
	.resv_start_op = ARCHIP_SRV_CMD_STATUS + 1,
};

int __init archip_srv_netlink_init(void)
{
	return genl_register_family(&srv_family);
}

void archip_srv_netlink_uninit(void)
{
	genl_unregister_family(&srv_family);
}
