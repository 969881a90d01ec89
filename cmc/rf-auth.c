/* SPDX-License-Identifier: MIT */
/*
 * Redfish authentication: the password checker thread, sessions and the limit on failed
 * logins (rf-priv.h). Checking a password is yescrypt, slow by design (about 15 ms here),
 * so it never runs on cmcd's event loop: the loop queues a check with the connection
 * suspended, this file's one worker runs crypt_r() and calls done(), which resumes the
 * connection. Sessions and limits belong to the loop thread alone.
 */
#include "rf-priv.h"

#include "loop.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RF_CHECKS_QUEUED_MAX 64
#define RF_LIMIT_ENTRIES 256
#define RF_LIMIT_FREE_TRIES 3		/* failures before the delay starts */
#define RF_LIMIT_MAX_S 60

struct rf_limit {
	char user[CMC_ACCOUNT_NAME_MAX + 1];
	char source[48];
	unsigned failures;
	unsigned long long until_ms, last_ms;
};

struct rf_auth {
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rf_check *head, **tail;	/* queued checks, under lock */
	unsigned queued;
	bool stopping;
	char dummy[CMC_ACCOUNT_HASH_MAX + 1];	/* checked for unknown accounts: same time */

	unsigned timeout_s;
	struct rf_session sessions[RF_SESSIONS_MAX];
	size_t live;			/* sessions in use (for listing) */
	unsigned long long next_id;
	struct rf_limit limits[RF_LIMIT_ENTRIES];
};

/* --- the worker ----------------------------------------------------------------------- */

/* Constant-time comparison of two NUL-terminated strings of the lengths given. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static bool run_check(struct rf_auth *a, struct crypt_data *cd, const struct rf_check *c)
{
	const char *hash = *c->hash ? c->hash : a->dummy;
	const char *got;

	if (!*hash)
		return false;
	memset(cd, 0, sizeof(*cd));
	got = crypt_r(c->password, hash, cd);
	return got && got[0] != '*' && same(got, hash) && *c->hash;
}

static void *worker_main(void *arg)
{
	struct rf_auth *a = arg;
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	for (;;) {
		struct rf_check *c;

		pthread_mutex_lock(&a->lock);
		while (!a->head && !a->stopping)
			pthread_cond_wait(&a->cond, &a->lock);
		c = a->head;
		if (c) {
			a->head = c->next;
			if (!a->head)
				a->tail = &a->head;
			a->queued--;
		}
		bool stopping = a->stopping;
		pthread_mutex_unlock(&a->lock);
		if (!c)
			break;
		bool ok = !stopping && cd && run_check(a, cd, c);
		explicit_bzero(c->password, sizeof(c->password));
		pthread_mutex_lock(&a->lock);
		c->ok = ok;
		pthread_mutex_unlock(&a->lock);
		c->done(c->arg);	/* the last touch: the loop may free c from here on */
	}
	free(cd);
	return NULL;
}

/* A hash to check unknown names against, so that they take as long as known ones. */
static void make_dummy(struct rf_auth *a)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	if (cd && crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt))) {
		const char *h = crypt_r("not a password", salt, cd);
		if (h && h[0] != '*')
			snprintf(a->dummy, sizeof(a->dummy), "%s", h);
	}
	free(cd);
}

int rf_auth_new(unsigned idle_timeout_s, struct rf_auth **out)
{
	struct rf_auth *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	a->tail = &a->head;
	a->timeout_s = idle_timeout_s;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	make_dummy(a);
	rc = -pthread_create(&a->worker, NULL, worker_main, a);
	if (rc) {
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return rc;
	}
	a->worker_started = true;
	*out = a;
	return 0;
}

void rf_auth_free(struct rf_auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->worker_started)
		pthread_join(a->worker, NULL);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a->sessions, sizeof(a->sessions));
	free(a);
}

int rf_auth_check(struct rf_auth *a, struct rf_check *c)
{
	int rc = 0;

	c->next = NULL;
	c->ok = false;
	pthread_mutex_lock(&a->lock);
	if (a->queued >= RF_CHECKS_QUEUED_MAX || a->stopping) {
		rc = -EBUSY;
	} else {
		*a->tail = c;
		a->tail = &c->next;
		a->queued++;
		pthread_cond_signal(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* --- failed logins ---------------------------------------------------------------------- */

static struct rf_limit *limit_find(struct rf_auth *a, const char *user, const char *source,
				   bool create)
{
	struct rf_limit *oldest = &a->limits[0];

	for (size_t i = 0; i < RF_LIMIT_ENTRIES; i++) {
		struct rf_limit *l = &a->limits[i];
		if (l->last_ms && strcmp(l->user, user) == 0 && strcmp(l->source, source) == 0)
			return l;
		if (l->last_ms < oldest->last_ms)
			oldest = l;
	}
	if (!create)
		return NULL;
	/* Full: the entry unused longest goes (an attacker with many sources costs us a
	 * bounded table, and each source still waits for its own delays). */
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->user, sizeof(oldest->user), "%s", user);
	snprintf(oldest->source, sizeof(oldest->source), "%s", source);
	return oldest;
}

unsigned rf_auth_blocked(struct rf_auth *a, const char *user, const char *source)
{
	struct rf_limit *l = limit_find(a, user, source, false);
	unsigned long long now = cmc_now_ms();

	if (!l || l->until_ms <= now)
		return 0;
	return (unsigned)((l->until_ms - now + 999) / 1000);
}

void rf_auth_result(struct rf_auth *a, const char *user, const char *source, bool ok)
{
	struct rf_limit *l = limit_find(a, user, source, !ok);
	unsigned long long now = cmc_now_ms();

	if (!l)
		return;
	if (ok) {
		memset(l, 0, sizeof(*l));
		return;
	}
	l->last_ms = now;
	if (++l->failures > RF_LIMIT_FREE_TRIES) {
		unsigned shift = l->failures - RF_LIMIT_FREE_TRIES - 1;
		unsigned s = shift >= 6 ? RF_LIMIT_MAX_S : 1u << shift;
		l->until_ms = now + 1000ull * (s > RF_LIMIT_MAX_S ? RF_LIMIT_MAX_S : s);
	}
}

/* --- sessions --------------------------------------------------------------------------- */

static void expire(struct rf_auth *a)
{
	unsigned long long now = cmc_now_ms();

	for (size_t i = 0; i < RF_SESSIONS_MAX; i++) {
		struct rf_session *s = &a->sessions[i];
		if (s->in_use && now - s->used_ms > 1000ull * a->timeout_s) {
			explicit_bzero(s, sizeof(*s));
			a->live--;
		}
	}
}

static int random_hex(char *out, size_t chars)
{
	unsigned char raw[64];
	size_t n = (chars + 1) / 2;

	if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < chars; i++)
		out[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[chars] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

const struct rf_session *rf_session_new(struct rf_auth *a, const char *user, enum cmc_role role,
					const char *source)
{
	struct rf_session *s = NULL;

	expire(a);
	for (size_t i = 0; i < RF_SESSIONS_MAX && !s; i++)
		if (!a->sessions[i].in_use)
			s = &a->sessions[i];
	if (!s || random_hex(s->token, RF_TOKEN_LEN) < 0)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%llu", ++a->next_id);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->source, sizeof(s->source), "%s", source);
	s->role = role;
	s->created_ms = s->used_ms = cmc_now_ms();
	s->in_use = true;
	a->live++;
	return s;
}

const struct rf_session *rf_session_by_token(struct rf_auth *a, const char *token)
{
	unsigned long long now = cmc_now_ms();

	if (strlen(token) != RF_TOKEN_LEN)
		return NULL;
	for (size_t i = 0; i < RF_SESSIONS_MAX; i++) {
		struct rf_session *s = &a->sessions[i];
		if (!s->in_use || !same(s->token, token))
			continue;
		if (now - s->used_ms > 1000ull * a->timeout_s) {
			explicit_bzero(s, sizeof(*s));
			a->live--;
			return NULL;
		}
		s->used_ms = now;
		return s;
	}
	return NULL;
}

static struct rf_session *find_id(struct rf_auth *a, const char *id)
{
	expire(a);
	for (size_t i = 0; i < RF_SESSIONS_MAX; i++)
		if (a->sessions[i].in_use && strcmp(a->sessions[i].id, id) == 0)
			return &a->sessions[i];
	return NULL;
}

const struct rf_session *rf_session_by_id(struct rf_auth *a, const char *id)
{
	return find_id(a, id);
}

void rf_session_end(struct rf_auth *a, const char *id)
{
	struct rf_session *s = find_id(a, id);

	if (s) {
		explicit_bzero(s, sizeof(*s));
		a->live--;
	}
}

size_t rf_session_count(struct rf_auth *a)
{
	expire(a);
	return a->live;
}

/* The i-th live session in slot order (sessions fill the lowest free slot). */
const struct rf_session *rf_session_at(struct rf_auth *a, size_t i)
{
	for (size_t k = 0; k < RF_SESSIONS_MAX; k++)
		if (a->sessions[k].in_use && i-- == 0)
			return &a->sessions[k];
	return NULL;
}

unsigned rf_auth_timeout(const struct rf_auth *a)
{
	return a->timeout_s;
}
