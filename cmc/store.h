/* SPDX-License-Identifier: MIT */
/*
 * cmcd's crash-safe state store: a small set of (key, value) string records, such as
 *
 *   assign/slot3/pf0/vf2 = "blade=blade1 mac=02:00:00:03:00:02"
 *   slot/3               = "card=8086:10c9 pfs=1 vfs=2"
 *
 * Why this design:
 * - The state is small (hundreds to a few thousand records, well under a megabyte) and
 *   changes only when an admin or a hot-plug event acts, so rewriting the whole file on
 *   each commit costs little and needs no log replay, compaction or recovery code.
 * - Whole-file atomic replace: a commit writes PATH.tmp, fsyncs it, renames it over PATH
 *   and fsyncs the directory. rename() is atomic, so after a crash PATH holds either the
 *   old state or the new one, never a mix. A PATH.tmp found at open is a commit that did
 *   not reach its rename: the old file is the truth, and the leftover is removed.
 * - A CRC32 over the header and payload, an exact length and a version detect a torn,
 *   truncated or corrupted file. Such a file is never repaired, replaced or truncated:
 *   open fails with -EBADMSG and the file stays as it was, so the admin can look at it
 *   (the daemon refuses to start rather than forget which VFs it handed out).
 * - No dependency beyond libc (no SQLite or LMDB for a few kilobytes of state), and the
 *   format is a dozen lines to read back from a hex dump.
 * - An exclusive lock (flock on PATH.lock) stops a second cmcd from using the same store.
 *
 * File format (little-endian), version 1:
 *   0  magic "CMCSTATE"          8 bytes
 *   8  version                   u32 (1)
 *  12  reserved                  u32 (0)
 *  16  generation                u64 (1 for the first commit, +1 on each)
 *  24  record count              u32
 *  28  payload length            u32 (file size - 36)
 *  32  CRC32 (IEEE, as zlib)     u32 over bytes 0..31 then the payload
 *  36  payload: per record, sorted by key with no duplicates:
 *        u16 key length, u16 value length, key bytes, value bytes (no NULs)
 *
 * Transactions: set/del change the in-memory state only; cmc_store_commit() makes all
 * changes since the last commit durable at once. If a commit fails, the file on disk is
 * the previous one and the changes are ROLLED BACK in memory too, so that what get()
 * returns is always what a restarted daemon would read (a failed operation must not be
 * carried to disk by the next, unrelated commit). cmc_store_rollback() drops uncommitted
 * changes on purpose, e.g. when an operation fails half-way.
 *
 * Not thread-safe: the daemon uses it from its event loop only.
 */
#ifndef CMC_STORE_H
#define CMC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cmc_store;

/* Keys: 1..255 characters from '!' to '~' (printable ASCII, no space). */
#define CMC_STORE_KEY_MAX 255
/* Values: 0..4095 characters from ' ' to '~' (printable ASCII). */
#define CMC_STORE_VALUE_MAX 4095

/* Info flags for cmc_store_open_info(): things the daemon should log, not errors. */
#define CMC_STORE_INFO_CREATED 0x1		/* PATH did not exist: empty store */
#define CMC_STORE_INFO_LEFTOVER_TMP 0x2	/* PATH.tmp from an interrupted commit removed */

/*
 * Open the store at `path` (its directory must exist). A missing file is an empty store
 * (generation 0); the file is created by the first commit.
 * Errors: -EBADMSG the file is not a valid store (it is left untouched), -EBUSY another
 * process holds the store, -EINVAL a bad path, or the -errno of a system call. There is
 * no handle to ask on failure, so `err` (may be NULL when errlen is 0) receives the
 * detail: "/var/lib/cmc/state: checksum mismatch (stored 1a2b3c4d, computed ...)".
 */
int cmc_store_open(const char *path, struct cmc_store **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Closes without committing: uncommitted changes are dropped. NULL is a no-op. */
void cmc_store_close(struct cmc_store *st);

/* CMC_STORE_INFO_* found while opening. */
unsigned cmc_store_open_info(const struct cmc_store *st);

/* The value of key, or NULL. Valid until the next change to that key or close. */
const char *cmc_store_get(const struct cmc_store *st, const char *key);

/* 0, or -EINVAL (key or value not valid), -ENOMEM, -EIO (store broken, see commit). */
int cmc_store_set(struct cmc_store *st, const char *key, const char *value)
	__attribute__((warn_unused_result));
/* 0 if removed, -ENOENT if absent, -EINVAL, -ENOMEM, -EIO. */
int cmc_store_del(struct cmc_store *st, const char *key) __attribute__((warn_unused_result));
/* Remove every key starting with prefix; returns how many, or -ENOMEM/-EIO. */
int cmc_store_del_prefix(struct cmc_store *st, const char *prefix)
	__attribute__((warn_unused_result));

/*
 * Call fn for each record whose key starts with prefix ("" for all), in key order.
 * fn must not change the store. A nonzero return from fn stops the walk and is returned.
 */
typedef int (*cmc_store_fn)(const char *key, const char *value, void *arg);
int cmc_store_foreach(const struct cmc_store *st, const char *prefix, cmc_store_fn fn, void *arg);
size_t cmc_store_count(const struct cmc_store *st, const char *prefix);

/*
 * Write every record to disk atomically (see above). Nothing to write: returns 0 and the
 * generation stays. On failure (-errno) the previous file is in place, the changes are
 * rolled back and cmc_store_error() says which step failed.
 * One exception: if the directory fsync after the rename fails, the new file is already
 * visible but may not survive a power loss. The new state is kept (it is what PATH now
 * holds), -EIO is returned and the store is marked broken: every later change and commit
 * returns -EIO. The daemon should stop, since it can no longer promise durability.
 */
int cmc_store_commit(struct cmc_store *st) __attribute__((warn_unused_result));
/* Drop the changes made since the last commit. */
void cmc_store_rollback(struct cmc_store *st);
bool cmc_store_dirty(const struct cmc_store *st);

/* Generation of the state on disk: 0 for a store never committed, +1 per commit. */
uint64_t cmc_store_generation(const struct cmc_store *st);

/* The reason for the last failure of commit, as one line ("" if none). */
const char *cmc_store_error(const struct cmc_store *st);

/* Values written as "k1=v1 k2=v2" (what cmcd keeps): the field k copied into out.
 * -ENOENT if absent, -ERANGE if it does not fit. */
int cmc_store_field(const char *value, const char *k, char *out, size_t len);

/* True if the key and value are acceptable (same checks as cmc_store_set). */
bool cmc_store_key_valid(const char *key);
bool cmc_store_value_valid(const char *value);

#endif
