/* SPDX-License-Identifier: MIT */
/*
 * Redfish accounts (accounts.c): a name, a role and a password hash, kept in cmcd's store
 * as "account/NAME" = "role=ROLE hash=HASH". The hash is crypt(3)'s yescrypt ("$y$...",
 * libxcrypt), made by cmcctl: the password never reaches cmcd's socket, and cmcd's event
 * loop never runs the (deliberately slow) hash. No account exists until an administrator
 * adds one; only root may (the control socket's peer credentials, SO_PEERCRED).
 *
 * Roles are Redfish's standard ones (DSP0266 §13.2.2, the Role schema's
 * AssignedPrivileges): Administrator, Operator, ReadOnly.
 */
#ifndef CMC_ACCOUNTS_H
#define CMC_ACCOUNTS_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>

struct cmc_store;

enum cmc_role { CMC_ROLE_ADMINISTRATOR, CMC_ROLE_OPERATOR, CMC_ROLE_READONLY, CMC_ROLE_COUNT };

#define CMC_ACCOUNT_NAME_MAX 32		/* characters of a user name */
#define CMC_ACCOUNT_HASH_MAX 160	/* characters of a crypt(3) hash */
#define CMC_ACCOUNTS_MAX 64

/* "Administrator", "Operator", "ReadOnly"; NULL out of range. */
const char *cmc_role_name(enum cmc_role role);
/* The role named s (exact spelling), or -EINVAL. */
int cmc_role_parse(const char *s);

/* 1..32 characters of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool cmc_account_name_ok(const char *name);
/* A yescrypt hash as crypt(3) writes it: "$y$" and [./0-9A-Za-z$] only, 20..160 chars. */
bool cmc_account_hash_ok(const char *hash);

/* The account `name`: its role and hash copied out (hash: CMC_ACCOUNT_HASH_MAX + 1 bytes).
 * 0, -ENOENT (no such account), -EBADMSG (the record is damaged). */
int cmc_account_get(const struct cmc_store *st, const char *name, enum cmc_role *role,
		    char *hash, size_t hashlen) __attribute__((warn_unused_result));

/* Each account in name order: fn(name, role, arg); a nonzero return stops the walk. */
typedef int (*cmc_account_fn)(const char *name, enum cmc_role role, void *arg);
int cmc_accounts_foreach(const struct cmc_store *st, cmc_account_fn fn, void *arg);
size_t cmc_accounts_count(const struct cmc_store *st);

/* Control-socket commands: "account add NAME role ROLE hash HASH", "account del NAME",
 * "accounts". Adding and deleting need the caller to be root (req->peer_uid 0). */
enum cmc_status cmc_cmd_account(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_accounts(void *ctx, struct cmc_api_request *req);

#endif
