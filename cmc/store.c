/* SPDX-License-Identifier: MIT */
/*
 * The state store: a sorted array of records in memory, written whole to disk on each
 * commit through a temporary file and rename() (format and reasons in store.h).
 *
 * Each record is one allocation "key\0value\0", so replacing a value swaps one pointer
 * and the old block can be kept for rollback. Changes since the last commit are kept in
 * an undo log of such blocks; rolling back replays it backwards. The record array never
 * shrinks during a transaction, so replaying the undo log needs no allocation and cannot
 * fail.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAGIC "CMCSTATE"
#define STORE_VERSION 1u
#define HEADER_LEN 36u
#define CRC_OFFSET 32u
#define RECORD_HEAD_LEN 4u
/* Far above a few thousand records (each at most 4 + 255 + 4095 bytes): a file claiming
 * more is corrupt, and we do not want to allocate whatever a corrupt header says. */
#define STORE_FILE_MAX (64u << 20)

struct record {
	char *kv;		/* "key\0value\0" */
	size_t klen, vlen;
};

/* The state of one key before a change: its old record block, or just its name if the
 * key did not exist (then rollback removes it). */
struct undo {
	char *kv;
	bool existed;
};

struct cmc_store {
	char *path;		/* as given, for messages */
	char *name, *tmp_name;	/* relative to dir_fd */
	int dir_fd, lock_fd;
	struct record *recs;
	size_t count, cap;
	struct undo *undo;
	size_t undo_count, undo_cap;
	uint64_t generation;
	unsigned info;
	bool broken;		/* directory fsync failed: durability unknown */
	char error[320];
};

/* --- CRC32 (IEEE 802.3, reflected, as zlib's crc32()) ------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The file's CRC: header bytes before the CRC field, then the payload. */
static uint32_t file_crc(const uint8_t *file, size_t len)
{
	uint32_t crc = crc32_update(0, file, CRC_OFFSET);

	return crc32_update(crc, file + HEADER_LEN, len - HEADER_LEN);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* --- Keys, values, records ---------------------------------------------------------- */

static bool chars_in(const char *s, size_t len, char lo, char hi)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < lo || s[i] > hi)
			return false;
	return true;
}

bool cmc_store_key_valid(const char *key)
{
	size_t n = key ? strnlen(key, CMC_STORE_KEY_MAX + 1) : 0;

	return n >= 1 && n <= CMC_STORE_KEY_MAX && chars_in(key, n, '!', '~');
}

bool cmc_store_value_valid(const char *value)
{
	size_t n = value ? strnlen(value, CMC_STORE_VALUE_MAX + 1) : CMC_STORE_VALUE_MAX + 1;

	return n <= CMC_STORE_VALUE_MAX && chars_in(value, n, ' ', '~');
}

static char *kv_new(const char *key, size_t klen, const char *value, size_t vlen)
{
	char *kv = malloc(klen + vlen + 2);

	if (!kv)
		return NULL;
	memcpy(kv, key, klen);
	kv[klen] = '\0';
	memcpy(kv + klen + 1, value, vlen);
	kv[klen + 1 + vlen] = '\0';
	return kv;
}

static struct record record_of(char *kv)
{
	size_t klen = strlen(kv);

	return (struct record){ .kv = kv, .klen = klen, .vlen = strlen(kv + klen + 1) };
}

/* Index of key, or of where it would go (first key >= key); *found says which. */
static size_t find(const struct cmc_store *st, const char *key, bool *found)
{
	size_t lo = 0, hi = st->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->recs[mid].kv, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

static int reserve_records(struct cmc_store *st, size_t more)
{
	return reserve((void **)&st->recs, &st->cap, st->count + more, sizeof(*st->recs));
}

static int reserve_undo(struct cmc_store *st, size_t more)
{
	return reserve((void **)&st->undo, &st->undo_cap, st->undo_count + more, sizeof(*st->undo));
}

/* Capacity must already be there (reserve_records). */
static void insert_at(struct cmc_store *st, size_t idx, struct record r)
{
	memmove(&st->recs[idx + 1], &st->recs[idx], (st->count - idx) * sizeof(*st->recs));
	st->recs[idx] = r;
	st->count++;
}

static void remove_range(struct cmc_store *st, size_t idx, size_t n)
{
	memmove(&st->recs[idx], &st->recs[idx + n], (st->count - idx - n) * sizeof(*st->recs));
	st->count -= n;
}

static void free_records(struct cmc_store *st)
{
	for (size_t i = 0; i < st->count; i++)
		free(st->recs[i].kv);
	st->count = 0;
}

/* --- Changes and the undo log --------------------------------------------------------- */

static void forget_undo(struct cmc_store *st)
{
	for (size_t i = 0; i < st->undo_count; i++)
		free(st->undo[i].kv);
	st->undo_count = 0;
}

void cmc_store_rollback(struct cmc_store *st)
{
	while (st->undo_count) {
		struct undo *u = &st->undo[--st->undo_count];
		bool found;
		size_t idx = find(st, u->kv, &found);

		/* Replayed in reverse, each entry finds the key as the change left it: present
		 * after a set, absent after a delete (whose array slot is still allocated). */
		if (found)
			free(st->recs[idx].kv);
		if (u->existed && found)
			st->recs[idx] = record_of(u->kv);
		else if (u->existed)
			insert_at(st, idx, record_of(u->kv));
		else if (found)
			remove_range(st, idx, 1);
		if (!u->existed)
			free(u->kv);
	}
}

int cmc_store_set(struct cmc_store *st, const char *key, const char *value)
{
	size_t klen, vlen, idx;
	struct undo u;
	bool found;
	char *kv;

	if (st->broken)
		return -EIO;
	if (!cmc_store_key_valid(key) || !cmc_store_value_valid(value))
		return -EINVAL;
	idx = find(st, key, &found);
	if (found && strcmp(st->recs[idx].kv + st->recs[idx].klen + 1, value) == 0)
		return 0;
	klen = strlen(key);
	vlen = strlen(value);
	kv = kv_new(key, klen, value, vlen);
	u.existed = found;
	u.kv = found ? st->recs[idx].kv : kv_new(key, klen, "", 0);
	if (!kv || !u.kv || reserve_undo(st, 1) || reserve_records(st, 1))
		goto free_new;
	st->undo[st->undo_count++] = u;
	if (found)
		st->recs[idx] = (struct record){ .kv = kv, .klen = klen, .vlen = vlen };
	else
		insert_at(st, idx, (struct record){ .kv = kv, .klen = klen, .vlen = vlen });
	return 0;

free_new:
	if (!found)
		free(u.kv);
	free(kv);
	return -ENOMEM;
}

int cmc_store_del(struct cmc_store *st, const char *key)
{
	bool found;
	size_t idx;

	if (st->broken)
		return -EIO;
	if (!cmc_store_key_valid(key))
		return -EINVAL;
	idx = find(st, key, &found);
	if (!found)
		return -ENOENT;
	if (reserve_undo(st, 1))
		return -ENOMEM;
	st->undo[st->undo_count++] = (struct undo){ .kv = st->recs[idx].kv, .existed = true };
	remove_range(st, idx, 1);
	return 0;
}

/* [*first, returned) is the run of keys starting with prefix. */
static size_t prefix_range(const struct cmc_store *st, const char *prefix, size_t *first)
{
	size_t plen = strlen(prefix), end;
	bool found;

	*first = find(st, prefix, &found);
	for (end = *first; end < st->count; end++)
		if (strncmp(st->recs[end].kv, prefix, plen) != 0)
			break;
	return end;
}

int cmc_store_del_prefix(struct cmc_store *st, const char *prefix)
{
	size_t first, end, n;

	if (st->broken)
		return -EIO;
	end = prefix_range(st, prefix ? prefix : "", &first);
	n = end - first;
	if (n > INT_MAX)
		return -EOVERFLOW;
	if (reserve_undo(st, n))
		return -ENOMEM;
	for (size_t i = first; i < end; i++)
		st->undo[st->undo_count++] = (struct undo){ .kv = st->recs[i].kv, .existed = true };
	remove_range(st, first, n);
	return (int)n;
}

const char *cmc_store_get(const struct cmc_store *st, const char *key)
{
	bool found;
	size_t idx;

	if (!key)
		return NULL;
	idx = find(st, key, &found);
	return found ? st->recs[idx].kv + st->recs[idx].klen + 1 : NULL;
}

int cmc_store_foreach(const struct cmc_store *st, const char *prefix, cmc_store_fn fn, void *arg)
{
	size_t first, end = prefix_range(st, prefix ? prefix : "", &first);

	for (size_t i = first; i < end; i++) {
		int rc = fn(st->recs[i].kv, st->recs[i].kv + st->recs[i].klen + 1, arg);
		if (rc)
			return rc;
	}
	return 0;
}

size_t cmc_store_count(const struct cmc_store *st, const char *prefix)
{
	size_t first, end = prefix_range(st, prefix ? prefix : "", &first);

	return end - first;
}

bool cmc_store_dirty(const struct cmc_store *st)
{
	return st->undo_count > 0;
}

uint64_t cmc_store_generation(const struct cmc_store *st)
{
	return st->generation;
}

unsigned cmc_store_open_info(const struct cmc_store *st)
{
	return st->info;
}

const char *cmc_store_error(const struct cmc_store *st)
{
	return st->error;
}

/* --- Encoding and decoding the file -------------------------------------------------- */

static size_t encoded_len(const struct cmc_store *st)
{
	size_t len = HEADER_LEN;

	for (size_t i = 0; i < st->count; i++)
		len += RECORD_HEAD_LEN + st->recs[i].klen + st->recs[i].vlen;
	return len;
}

static void encode(const struct cmc_store *st, uint64_t generation, uint8_t *buf, size_t len)
{
	uint8_t *p = buf + HEADER_LEN;

	memcpy(buf, STORE_MAGIC, 8);
	put_u32(buf + 8, STORE_VERSION);
	put_u32(buf + 12, 0);
	put_u64(buf + 16, generation);
	put_u32(buf + 24, (uint32_t)st->count);
	put_u32(buf + 28, (uint32_t)(len - HEADER_LEN));
	for (size_t i = 0; i < st->count; i++) {
		const struct record *r = &st->recs[i];
		put_u16(p, (uint16_t)r->klen);
		put_u16(p + 2, (uint16_t)r->vlen);
		memcpy(p + RECORD_HEAD_LEN, r->kv, r->klen);
		memcpy(p + RECORD_HEAD_LEN + r->klen, r->kv + r->klen + 1, r->vlen);
		p += RECORD_HEAD_LEN + r->klen + r->vlen;
	}
	put_u32(buf + CRC_OFFSET, file_crc(buf, len));
}

static __attribute__((format(printf, 3, 4))) int bad(char *err, size_t errlen, const char *fmt,
						     ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* The header is whole and its CRC matches; *payload_len and *count are what it says. */
static int check_header(const uint8_t *buf, size_t size, char *err, size_t errlen)
{
	uint32_t version, payload_len, stored, computed;

	if (size < HEADER_LEN)
		return bad(err, errlen, "truncated: %zu bytes, shorter than the %u-byte header",
			   size, HEADER_LEN);
	if (memcmp(buf, STORE_MAGIC, 8) != 0)
		return bad(err, errlen, "bad magic: not a cmc state file");
	version = get_u32(buf + 8);
	if (version != STORE_VERSION)
		return bad(err, errlen, "format version %u, this cmcd reads version %u", version,
			   STORE_VERSION);
	payload_len = get_u32(buf + 28);
	if (payload_len > size - HEADER_LEN)
		return bad(err, errlen, "truncated: the header announces %u payload bytes, the"
			   " file has %zu", payload_len, size - HEADER_LEN);
	if (payload_len < size - HEADER_LEN)
		return bad(err, errlen, "%zu unexpected bytes after the %u-byte payload",
			   size - HEADER_LEN - payload_len, payload_len);
	stored = get_u32(buf + CRC_OFFSET);
	computed = file_crc(buf, size);
	if (stored != computed)
		return bad(err, errlen, "checksum mismatch (stored %08x, computed %08x)", stored,
			   computed);
	return 0;
}

/* One record at *pos; appended in order (the CRC matched, but a writer bug must not
 * produce a store whose binary search silently misses keys). */
static int decode_record(struct cmc_store *st, const uint8_t *payload, size_t len, size_t *pos,
			 char *err, size_t errlen)
{
	size_t klen, vlen, n = st->count;
	const char *k, *v;

	if (len - *pos < RECORD_HEAD_LEN)
		return bad(err, errlen, "record %zu: cut short", n);
	klen = get_u16(payload + *pos);
	vlen = get_u16(payload + *pos + 2);
	if (len - *pos - RECORD_HEAD_LEN < klen + vlen)
		return bad(err, errlen, "record %zu: lengths run past the payload", n);
	k = (const char *)payload + *pos + RECORD_HEAD_LEN;
	v = k + klen;
	if (klen < 1 || klen > CMC_STORE_KEY_MAX || !chars_in(k, klen, '!', '~'))
		return bad(err, errlen, "record %zu: invalid key", n);
	if (vlen > CMC_STORE_VALUE_MAX || !chars_in(v, vlen, ' ', '~'))
		return bad(err, errlen, "record %zu: invalid value", n);
	st->recs[n] = (struct record){ .kv = kv_new(k, klen, v, vlen), .klen = klen, .vlen = vlen };
	if (!st->recs[n].kv)
		return -ENOMEM;
	st->count++;
	if (n > 0 && strcmp(st->recs[n - 1].kv, st->recs[n].kv) >= 0)
		return bad(err, errlen, "record %zu: key \"%.40s\" out of order or repeated", n,
			   st->recs[n].kv);
	*pos += RECORD_HEAD_LEN + klen + vlen;
	return 0;
}

static int decode(struct cmc_store *st, const uint8_t *buf, size_t size, char *err, size_t errlen)
{
	const uint8_t *payload = buf + HEADER_LEN;
	size_t len = size - HEADER_LEN, pos = 0;
	uint32_t count;
	int rc = check_header(buf, size, err, errlen);

	if (rc)
		return rc;
	count = get_u32(buf + 24);
	if (count > len / RECORD_HEAD_LEN)
		return bad(err, errlen, "%u records cannot fit in %zu payload bytes", count, len);
	rc = reserve_records(st, count);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		rc = decode_record(st, payload, len, &pos, err, errlen);
		if (rc)
			return rc;
	}
	if (pos != len)
		return bad(err, errlen, "%zu payload bytes after the %u records", len - pos, count);
	st->generation = get_u64(buf + 16);
	return 0;
}

/* --- Files ------------------------------------------------------------------------- */

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* shrank under us */
		done += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* A missing file is an empty store; anything else must decode. */
static int load(struct cmc_store *st, char *err, size_t errlen)
{
	int fd = openat(st->dir_fd, st->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint8_t *buf = NULL;
	struct stat sb;
	int rc;

	if (fd < 0 && errno == ENOENT) {
		st->info |= CMC_STORE_INFO_CREATED;
		return 0;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto close_fd;
	}
	rc = -EBADMSG;
	if (!S_ISREG(sb.st_mode))
		goto close_fd;
	if (sb.st_size > STORE_FILE_MAX) {
		bad(err, errlen, "%lld bytes, larger than any store (%u)", (long long)sb.st_size,
		    STORE_FILE_MAX);
		goto close_fd;
	}
	rc = -ENOMEM;
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf)
		goto close_fd;
	rc = read_all(fd, buf, (size_t)sb.st_size);
	if (rc == 0)
		rc = decode(st, buf, (size_t)sb.st_size, err, errlen);
	free(buf);
close_fd:
	close(fd);
	return rc;
}

/* Write the new state into tmp_name and make it durable. */
static int write_tmp(struct cmc_store *st, const uint8_t *buf, size_t len)
{
	int fd = openat(st->dir_fd, st->tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	int rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(st->error, sizeof(st->error), "%s.tmp: cannot create: %s", st->path,
			 strerror(-rc));
		return rc;
	}
	rc = write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc)
		snprintf(st->error, sizeof(st->error), "%s.tmp: cannot write: %s", st->path,
			 strerror(-rc));
	return rc;
}

/* Rename the durable tmp over the store, then make the rename itself durable. */
static int replace_file(struct cmc_store *st)
{
	if (renameat(st->dir_fd, st->tmp_name, st->dir_fd, st->name) < 0) {
		int rc = -errno;
		snprintf(st->error, sizeof(st->error), "%s: cannot rename %s.tmp over it: %s",
			 st->path, st->path, strerror(-rc));
		return rc;
	}
	return 0;
}

int cmc_store_commit(struct cmc_store *st)
{
	size_t len;
	uint8_t *buf;
	int rc;

	if (st->broken)
		return -EIO;
	if (!cmc_store_dirty(st))
		return 0;
	st->error[0] = '\0';
	len = encoded_len(st);
	rc = -EFBIG;
	if (len > STORE_FILE_MAX) {
		snprintf(st->error, sizeof(st->error), "%s: %zu bytes of state, more than %u",
			 st->path, len, STORE_FILE_MAX);
		goto rollback;
	}
	rc = -ENOMEM;
	buf = malloc(len);
	if (!buf)
		goto rollback;
	encode(st, st->generation + 1, buf, len);
	rc = write_tmp(st, buf, len);
	free(buf);
	if (rc == 0)
		rc = replace_file(st);
	if (rc)
		goto unlink_tmp;
	st->generation++;
	forget_undo(st);
	if (fsync(st->dir_fd) < 0) {
		rc = -EIO;
		st->broken = true;
		snprintf(st->error, sizeof(st->error), "%s: directory fsync failed after the"
			 " rename: %s; the new state may not survive a power loss", st->path,
			 strerror(errno));
	}
	return rc;

unlink_tmp:
	unlinkat(st->dir_fd, st->tmp_name, 0);
rollback:
	cmc_store_rollback(st);
	return rc;
}

/* --- Open and close ------------------------------------------------------------------ */

/* Directory and file names of path; names get ".tmp" and ".lock" appended later. */
static int split_path(struct cmc_store *st, const char *path, char **dir)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strlen(path) > PATH_MAX - 8)
		return -EINVAL;
	if (!slash)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	st->path = strdup(path);
	st->name = strdup(base);
	if (asprintf(&st->tmp_name, "%s.tmp", base) < 0)
		st->tmp_name = NULL;
	return *dir && st->path && st->name && st->tmp_name ? 0 : -ENOMEM;
}

/* One cmcd per store: a second one would overwrite the first one's commits. */
static int lock_store(struct cmc_store *st, char *err, size_t errlen)
{
	char lock_name[PATH_MAX];

	snprintf(lock_name, sizeof(lock_name), "%s.lock", st->name);
	st->lock_fd = openat(st->dir_fd, lock_name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "%s.lock: cannot open: %s", st->path, strerror(-rc));
		return rc;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s: in use by another process (lock %s.lock): %s", st->path,
			 st->path, strerror(-rc));
		return rc;
	}
	return 0;
}

/* After a valid load only: a refused store is left exactly as found. */
static int remove_leftover_tmp(struct cmc_store *st, char *err, size_t errlen)
{
	if (unlinkat(st->dir_fd, st->tmp_name, 0) == 0) {
		st->info |= CMC_STORE_INFO_LEFTOVER_TMP;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	int rc = -errno;
	snprintf(err, errlen, "%s.tmp: cannot remove the leftover of an interrupted commit: %s",
		 st->path, strerror(-rc));
	return rc;
}

static int open_files(struct cmc_store *st, const char *dir, char *err, size_t errlen)
{
	int rc;

	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open directory %s: %s", st->path, dir,
			 strerror(-rc));
		return rc;
	}
	rc = lock_store(st, err, errlen);
	if (rc)
		return rc;
	rc = load(st, err, errlen);
	if (rc == -EBADMSG) {
		char detail[256];
		snprintf(detail, sizeof(detail), "%s", errlen ? err : "");
		snprintf(err, errlen, "%s: %s (file left untouched)", st->path,
			 *detail ? detail : "not a regular file");
	} else if (rc) {
		snprintf(err, errlen, "%s: cannot read: %s", st->path, strerror(-rc));
	}
	if (rc)
		return rc;
	return remove_leftover_tmp(st, err, errlen);
}

int cmc_store_open(const char *path, struct cmc_store **out, char *err, size_t errlen)
{
	char scratch[1], *dir = NULL;
	struct cmc_store *st;
	int rc;

	*out = NULL;
	if (!errlen) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->dir_fd = st->lock_fd = -1;
	rc = split_path(st, path ? path : "", &dir);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path ? path : "(null)",
			 rc == -EINVAL ? "not a valid store path" : strerror(-rc));
		goto close_store;
	}
	rc = open_files(st, dir, err, errlen);
	if (rc)
		goto close_store;
	free(dir);
	*out = st;
	return 0;

close_store:
	free(dir);
	cmc_store_close(st);
	return rc;
}

void cmc_store_close(struct cmc_store *st)
{
	if (!st)
		return;
	cmc_store_rollback(st);
	free_records(st);
	free(st->recs);
	free(st->undo);
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* releases the flock */
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	free(st->tmp_name);
	free(st->path);
	free(st->name);
	free(st);
}

int cmc_store_field(const char *value, const char *k, char *out, size_t len)
{
	size_t kl = strlen(k);

	for (const char *p = value; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, k, kl) == 0 && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");
			if (n >= len)
				return -ERANGE;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return 0;
		}
		p = strchr(p, ' ');
	}
	return -ENOENT;
}
