/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *log_ident = "cmc";
static bool log_syslog;
static enum log_level log_level = LOG_LVL_INFO;

void log_init(const char *ident, bool to_syslog, enum log_level level)
{
	log_ident = ident;
	log_syslog = to_syslog;
	log_level = level;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static __attribute__((format(printf, 2, 0))) void log_vemit(int prio, const char *fmt, va_list ap,
								     int err)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (err && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(err < 0 ? -err : err));
	if (log_syslog) {
		syslog(prio, "%s", msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, log_ident, msg);
}

void log_warn(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, err ? err : errno);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	if (log_level < LOG_LVL_INFO)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (log_level < LOG_LVL_DEBUG)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void fatal(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void log_ratelimit_init(struct log_ratelimit *rl, unsigned burst, unsigned interval_ms)
{
	*rl = (struct log_ratelimit){
		.burst = burst, .interval_ms = interval_ms, .tokens = burst,
	};
}

bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned long long now_ms,
			 unsigned long *suppressed_out)
{
	if (!rl->started) {
		rl->started = true;
		rl->last_ms = now_ms;
	} else if (rl->interval_ms && now_ms >= rl->last_ms + rl->interval_ms) {
		unsigned long long refill = (now_ms - rl->last_ms) / rl->interval_ms;
		unsigned long long tokens = rl->tokens + refill;

		rl->tokens = tokens > rl->burst ? rl->burst : (unsigned)tokens;
		rl->last_ms += refill * rl->interval_ms;
	} else if (now_ms < rl->last_ms) {
		rl->last_ms = now_ms;	/* clock stepped back: restart the interval */
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	if (suppressed_out)
		*suppressed_out = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
