/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "cmc";
static bool log_syslog;
static bool log_journal;	/* stderr is the journal's stream */
static enum log_level log_level = LOG_LVL_INFO;

/*
 * systemd connects a service's stderr to the journal and says so in JOURNAL_STREAM
 * ("DEVICE:INODE" of that stream, systemd.exec(5)); the variable is inherited by
 * children whose stderr may be elsewhere, hence the comparison with stderr itself.
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool to_syslog, enum log_level level)
{
	log_ident = ident;
	log_syslog = to_syslog;
	log_journal = !to_syslog && stderr_is_journal();
	log_level = level;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * To the journal: one line per message, its syslog priority as a "<N>" prefix
 * (sd-daemon(3)), no timestamp or name of our own (the journal records both). A newline
 * inside the message would start an entry without a priority: it becomes a space.
 */
static void log_to_journal(int prio, char *msg)
{
	for (char *p = msg; (p = strchr(p, '\n')); )
		*p = ' ';
	fprintf(stderr, "<%d>%s\n", prio, msg);
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
	if (log_journal) {
		log_to_journal(prio, msg);
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
