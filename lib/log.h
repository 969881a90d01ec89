/* SPDX-License-Identifier: MIT */
/*
 * One logging module for the programs (cmcd, cmcctl, test tools). Libraries never log:
 * they return -errno and the program decides what to say.
 *
 * Foreground: stderr with a timestamp. Under systemd (stderr is the stream JOURNAL_STREAM
 * names): the same lines on stderr with a "<N>" syslog priority prefix instead, which
 * the journal stores as PRIORITY=N. Detached daemon: syslog.
 */
#ifndef CMC_LOG_H
#define CMC_LOG_H

#include <stdbool.h>
#include <stdarg.h>

enum log_level { LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *ident, bool to_syslog, enum log_level level);

/* log_warn appends ": strerror(err)"; err is a positive or negative errno value. */
void log_warn(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/*
 * A token bucket for log lines whose source we do not control (a VF's mailbox, a
 * flapping link): allows `burst` lines, then one per `interval_ms`. Counts what it
 * suppressed so the next allowed line can say so.
 */
struct log_ratelimit {
	unsigned burst;
	unsigned interval_ms;
	unsigned tokens;
	unsigned long long last_ms;
	bool started;
	unsigned long suppressed;
};

void log_ratelimit_init(struct log_ratelimit *rl, unsigned burst, unsigned interval_ms);
/* true: log it (and *suppressed_out = lines dropped since the last allowed one). */
bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned long long now_ms,
			 unsigned long *suppressed_out);

#endif
