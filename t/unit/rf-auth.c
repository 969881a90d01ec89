/* SPDX-License-Identifier: MIT */
/*
 * Redfish authentication without a network: the password checker thread (a right
 * password, a wrong one, an unknown account checked against the dummy), the failed-login
 * limit per account and source, sessions (tokens, lookup, end, the limit on their number),
 * accounts in a real store (names, hashes, a damaged record), and the strict parsing of
 * function ids in URIs ("pf0-vf3" and nothing that merely resembles it).
 */
#include "rf-tree.h"
#include "store.h"
#include "tap.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int finished;

static void done(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	finished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void wait_for(int n)
{
	pthread_mutex_lock(&lock);
	while (finished < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void make_hash(const char *pw, char *out, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) ? crypt_r(pw, salt, cd) : NULL;

	snprintf(out, len, "%s", h ? h : "");
	free(cd);
}

static void test_checks(struct rf_auth *a)
{
	struct rf_check right = { .done = done }, wrong = { .done = done }, unknown = { .done = done };
	char hash[CMC_ACCOUNT_HASH_MAX + 1];

	make_hash("correct horse", hash, sizeof(hash));
	tap_ok(cmc_account_hash_ok(hash), "crypt_gensalt $y$ makes a hash accounts accept (%.10s...)", hash);
	snprintf(right.hash, sizeof(right.hash), "%s", hash);
	snprintf(right.password, sizeof(right.password), "correct horse");
	snprintf(wrong.hash, sizeof(wrong.hash), "%s", hash);
	snprintf(wrong.password, sizeof(wrong.password), "correct horsf");
	snprintf(unknown.password, sizeof(unknown.password), "not a password");	/* the dummy's own */
	tap_ok(rf_auth_check(a, &right) == 0 && rf_auth_check(a, &wrong) == 0 &&
	       rf_auth_check(a, &unknown) == 0, "three checks queued");
	wait_for(3);
	tap_ok(right.ok, "the right password passes");
	tap_ok(!wrong.ok, "a wrong one does not");
	tap_ok(!unknown.ok, "an unknown account never passes, even with the dummy's password");
	tap_ok(right.password[0] == 0 && wrong.password[0] == 0, "passwords are wiped after the check");
}

static void test_limits(struct rf_auth *a)
{
	for (int i = 0; i < 3; i++)
		rf_auth_result(a, "ops", "10.0.0.1", false);
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.1"), 0, "3 failures: not blocked yet");
	rf_auth_result(a, "ops", "10.0.0.1", false);
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.1"), 1, "the 4th: blocked for 1 s");
	rf_auth_result(a, "ops", "10.0.0.1", false);
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.1"), 2, "the 5th: 2 s");
	for (int i = 0; i < 20; i++)
		rf_auth_result(a, "ops", "10.0.0.1", false);
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.1"), 60, "capped at 60 s");
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.2"), 0, "another source is not blocked");
	tap_is_int(rf_auth_blocked(a, "dev", "10.0.0.1"), 0, "nor another account");
	rf_auth_result(a, "ops", "10.0.0.1", true);
	tap_is_int(rf_auth_blocked(a, "ops", "10.0.0.1"), 0, "a success clears it");
}

static void test_sessions(struct rf_auth *a)
{
	const struct rf_session *s = rf_session_new(a, "ops", CMC_ROLE_OPERATOR, "10.0.0.1"), *t;
	char token[RF_TOKEN_LEN + 1], id[RF_SESSION_ID_LEN + 1], other[RF_TOKEN_LEN + 1];
	size_t n;

	if (!tap_ok(s != NULL, "a session"))
		return;
	snprintf(token, sizeof(token), "%s", s->token);
	snprintf(id, sizeof(id), "%s", s->id);
	tap_ok(strlen(token) == RF_TOKEN_LEN && strspn(token, "0123456789abcdef") == RF_TOKEN_LEN,
	       "its token: %d hex digits", RF_TOKEN_LEN);
	t = rf_session_by_token(a, token);
	tap_ok(t && strcmp(t->user, "ops") == 0 && t->role == CMC_ROLE_OPERATOR, "found by its token");
	snprintf(other, sizeof(other), "%s", token);
	other[RF_TOKEN_LEN - 1] = other[RF_TOKEN_LEN - 1] == '0' ? '1' : '0';
	tap_ok(!rf_session_by_token(a, other), "a token one digit off finds nothing");
	tap_ok(!rf_session_by_token(a, "") && !rf_session_by_token(a, "0"), "nor an empty or short one");
	rf_session_end(a, id);
	tap_ok(!rf_session_by_token(a, token) && !rf_session_by_id(a, id), "ended: gone");
	for (n = 0; n < RF_SESSIONS_MAX + 1 && rf_session_new(a, "ops", CMC_ROLE_OPERATOR, "x"); n++)
		;
	tap_is_int(n, RF_SESSIONS_MAX, "at most %d sessions", RF_SESSIONS_MAX);
	tap_is_int(rf_session_count(a), RF_SESSIONS_MAX, "all listed");
	tap_ok(rf_session_at(a, RF_SESSIONS_MAX - 1) && !rf_session_at(a, RF_SESSIONS_MAX), "rf_session_at bounds");
}

static void test_accounts(void)
{
	char dir[] = "/tmp/cmc-rf-XXXXXX", path[64], hash[CMC_ACCOUNT_HASH_MAX + 1], err[256];
	struct cmc_store *st = NULL;
	enum cmc_role role;

	tap_ok(cmc_account_name_ok("ops") && cmc_account_name_ok("A.b_c-1"), "names: letters, digits, . _ -");
	tap_ok(!cmc_account_name_ok("") && !cmc_account_name_ok("-x") && !cmc_account_name_ok(".x") &&
	       !cmc_account_name_ok("a b") && !cmc_account_name_ok("a/b") &&
	       !cmc_account_name_ok("123456789012345678901234567890123"), "not empty, -x, .x, spaces, /, 33 chars");
	tap_ok(!cmc_account_hash_ok("$6$salt$abcdefghijklmnopqrstuvwxyz") && !cmc_account_hash_ok("$y$ short"),
	       "hashes: yescrypt only, crypt's alphabet");
	tap_is_int(cmc_role_parse("ReadOnly"), CMC_ROLE_READONLY, "ReadOnly");
	tap_ok(cmc_role_parse("readonly") < 0, "roles are spelled exactly");
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/state", dir);
	if (!tap_ok(cmc_store_open(path, &st, err, sizeof(err)) == 0, "a store"))
		return;
	tap_ok(cmc_store_set(st, "account/ops", "role=Operator hash=$y$j9T$abcdefghijklmnop$qrstuvwxyz0123456789") == 0 &&
	       cmc_store_set(st, "account/bad", "role=King hash=$y$j9T$abcdefghijklmnop$qrstuvwxyz") == 0,
	       "two records");
	tap_ok(cmc_account_get(st, "ops", &role, hash, sizeof(hash)) == 0 && role == CMC_ROLE_OPERATOR &&
	       strncmp(hash, "$y$", 3) == 0, "an account read back");
	tap_is_int(cmc_account_get(st, "bad", &role, hash, sizeof(hash)), -EBADMSG, "a damaged record: -EBADMSG");
	tap_is_int(cmc_account_get(st, "nobody", &role, hash, sizeof(hash)), -ENOENT, "no account: -ENOENT");
	tap_is_int(cmc_account_get(st, "../x", &role, hash, sizeof(hash)), -ENOENT, "a bad name: -ENOENT");
	cmc_store_close(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.lock", dir);
	unlink(path);
	rmdir(dir);
}

static void test_fn_ids(void)
{
	static const char *const bad[] = { "pf", "pf8", "pf00", "pf01", "pf0-", "pf0-vf", "pf0-vf03",
					   "pf0-vf256", "pf0vf1", "PF0", "pf0-vf1x", "pf-1", "pf0-vf-1" };
	unsigned pf;
	int vf;

	tap_ok(rf_fn_parse("pf0", &pf, &vf) == 0 && pf == 0 && vf == -1, "pf0");
	tap_ok(rf_fn_parse("pf7-vf12", &pf, &vf) == 0 && pf == 7 && vf == 12, "pf7-vf12");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(rf_fn_parse(bad[i], &pf, &vf) == -ENOENT, "'%s' is no function id", bad[i]);
}

int main(void)
{
	struct rf_auth *a = NULL;

	if (!tap_ok(rf_auth_new(60, &a) == 0, "the checker starts"))
		return tap_done();
	test_checks(a);
	test_limits(a);
	test_sessions(a);
	rf_auth_free(a);
	test_accounts();
	test_fn_ids();
	return tap_done();
}
