/* SPDX-License-Identifier: MIT */
/* Redfish accounts in the store (accounts.h), and their control-socket commands. */
#include "accounts.h"

#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ACCOUNT_PREFIX "account/"

static const char *const role_names[CMC_ROLE_COUNT] = {
	[CMC_ROLE_ADMINISTRATOR] = "Administrator",
	[CMC_ROLE_OPERATOR] = "Operator",
	[CMC_ROLE_READONLY] = "ReadOnly",
};

const char *cmc_role_name(enum cmc_role role)
{
	return (unsigned)role < CMC_ROLE_COUNT ? role_names[role] : NULL;
}

int cmc_role_parse(const char *s)
{
	for (int i = 0; i < CMC_ROLE_COUNT; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -EINVAL;
}

bool cmc_account_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CMC_ACCOUNT_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

bool cmc_account_hash_ok(const char *hash)
{
	size_t n = strlen(hash);

	return n >= 20 && n <= CMC_ACCOUNT_HASH_MAX && strncmp(hash, "$y$", 3) == 0 &&
	       strspn(hash, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$") == n;
}

int cmc_account_get(const struct cmc_store *st, const char *name, enum cmc_role *role,
		    char *hash, size_t hashlen)
{
	char key[sizeof(ACCOUNT_PREFIX) + CMC_ACCOUNT_NAME_MAX], r[16];
	const char *v;
	int ri;

	if (!cmc_account_name_ok(name))
		return -ENOENT;
	snprintf(key, sizeof(key), ACCOUNT_PREFIX "%s", name);
	v = cmc_store_get(st, key);
	if (!v)
		return -ENOENT;
	if (cmc_store_field(v, "role", r, sizeof(r)) < 0 || (ri = cmc_role_parse(r)) < 0 ||
	    cmc_store_field(v, "hash", hash, hashlen) < 0 || !cmc_account_hash_ok(hash))
		return -EBADMSG;
	*role = (enum cmc_role)ri;
	return 0;
}

struct walk {
	cmc_account_fn fn;
	void *arg;
};

static int walk_one(const char *key, const char *value, void *arg)
{
	struct walk *w = arg;
	char r[16];
	int ri;

	if (cmc_store_field(value, "role", r, sizeof(r)) < 0 || (ri = cmc_role_parse(r)) < 0)
		return 0;	/* a damaged record is no account */
	return w->fn(key + strlen(ACCOUNT_PREFIX), (enum cmc_role)ri, w->arg);
}

int cmc_accounts_foreach(const struct cmc_store *st, cmc_account_fn fn, void *arg)
{
	struct walk w = { fn, arg };

	return cmc_store_foreach(st, ACCOUNT_PREFIX, walk_one, &w);
}

size_t cmc_accounts_count(const struct cmc_store *st)
{
	return cmc_store_count(st, ACCOUNT_PREFIX);
}

static enum cmc_status account_add(struct cmcd *d, struct cmc_api_request *req)
{
	char key[sizeof(ACCOUNT_PREFIX) + CMC_ACCOUNT_NAME_MAX], val[CMC_ACCOUNT_HASH_MAX + 32];
	const char *name = req->argv[2];
	int role;

	if (req->argc != 7 || strcmp(req->argv[3], "role") || strcmp(req->argv[5], "hash"))
		return cmc_api_refuse(req, CMC_USAGE, "usage: account add NAME role ROLE hash HASH");
	if (!cmc_account_name_ok(name))
		return cmc_api_refuse(req, CMC_USAGE, "'%.40s' is not an account name (1-32 of A-Z a-z 0-9 . _ -)",
				      name);
	role = cmc_role_parse(req->argv[4]);
	if (role < 0)
		return cmc_api_refuse(req, CMC_USAGE, "role must be Administrator, Operator or ReadOnly");
	if (!cmc_account_hash_ok(req->argv[6]))
		return cmc_api_refuse(req, CMC_USAGE, "the hash is not a yescrypt hash ($y$...)");
	snprintf(key, sizeof(key), ACCOUNT_PREFIX "%s", name);
	if (!cmc_store_get(d->store, key) && cmc_accounts_count(d->store) >= CMC_ACCOUNTS_MAX)
		return cmc_api_refuse(req, CMC_REFUSED, "%d accounts already", CMC_ACCOUNTS_MAX);
	snprintf(val, sizeof(val), "role=%s hash=%s", role_names[role], req->argv[6]);
	if (cmc_store_set(d->store, key, val) < 0 || cmc_store_commit(d->store) < 0) {
		cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "store: %s", cmc_store_error(d->store));
	}
	cmc_events_post(d->events, "account", -1, "%s added (%s)", name, role_names[role]);
	return CMC_OK;
}

static enum cmc_status account_del(struct cmcd *d, struct cmc_api_request *req)
{
	char key[sizeof(ACCOUNT_PREFIX) + CMC_ACCOUNT_NAME_MAX];
	const char *name = req->argv[2];

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: account del NAME");
	if (!cmc_account_name_ok(name))
		return cmc_api_refuse(req, CMC_REFUSED, "no account '%.40s'", name);
	snprintf(key, sizeof(key), ACCOUNT_PREFIX "%s", name);
	if (cmc_store_del(d->store, key) == -ENOENT)
		return cmc_api_refuse(req, CMC_REFUSED, "no account '%s'", name);
	if (cmc_store_commit(d->store) < 0) {
		cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "store: %s", cmc_store_error(d->store));
	}
	cmc_events_post(d->events, "account", -1, "%s deleted", name);
	return CMC_OK;
}

/* account add NAME role ROLE hash HASH | account del NAME: root only. */
enum cmc_status cmc_cmd_account(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (req->peer_uid != 0)
		return cmc_api_refuse(req, CMC_REFUSED, "accounts are changed by root only");
	if (strcmp(req->argv[1], "add") == 0)
		return account_add(d, req);
	if (strcmp(req->argv[1], "del") == 0)
		return account_del(d, req);
	return cmc_api_refuse(req, CMC_USAGE, "usage: account add NAME role ROLE | account del NAME");
}

static int account_record(const char *name, enum cmc_role role, void *arg)
{
	struct cmc_buf *b = arg;

	cmc_rec_begin(b, "account");
	cmc_rec_str(b, "account", name);
	cmc_rec_str(b, "role", role_names[role]);
	cmc_rec_end(b);
	return 0;
}

enum cmc_status cmc_cmd_accounts(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	cmc_accounts_foreach(d->store, account_record, req->body);
	return CMC_OK;
}
