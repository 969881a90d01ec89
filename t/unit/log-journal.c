/* SPDX-License-Identifier: MIT */
/*
 * Log lines under systemd: when stderr is the stream JOURNAL_STREAM names, each line
 * carries its syslog priority as "<N>" (sd-daemon(3)) and nothing else of ours; when it
 * is not (no variable, another stream, a malformed value), the foreground format.
 */
#include "log.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int pipe_fds[2];

/* stderr goes into a pipe; JOURNAL_STREAM names it, another stream, or nothing. */
static void redirect_stderr(const char *journal_stream, bool name_the_pipe)
{
	char val[64];
	struct stat st;

	/* The read end non-blocking: a test that logs nothing reads "" rather than hangs. */
	if (pipe(pipe_fds) < 0 || dup2(pipe_fds[1], STDERR_FILENO) < 0 ||
	    fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK) < 0)
		abort();
	close(pipe_fds[1]);
	if (name_the_pipe && fstat(STDERR_FILENO, &st) == 0) {
		snprintf(val, sizeof(val), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		journal_stream = val;
	}
	if (journal_stream)
		setenv("JOURNAL_STREAM", journal_stream, 1);
	else
		unsetenv("JOURNAL_STREAM");
	log_init("cmcd", false, LOG_LVL_DEBUG);
}

static const char *captured(void)
{
	static char buf[4096];
	ssize_t n;

	fflush(stderr);
	n = read(pipe_fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pipe_fds[0]);
	return buf;
}

static void log_some(void)
{
	log_warnx("slot %d: card gone", 2);
	log_warn(ENOENT, "open %s", "/dev/vfio/7");
	log_info("event %s: slot %d: %s", "link", 1, "down\nand up");
	log_debug("rescan");
}

static void test_journal(void)
{
	redirect_stderr(NULL, true);
	log_some();
	tap_is_str(captured(),
		   "<4>slot 2: card gone\n"
		   "<4>open /dev/vfio/7: No such file or directory\n"
		   "<6>event link: slot 1: down and up\n"
		   "<7>rescan\n",
		   "stderr is the journal: one line per message, <N> priority prefix, nothing else");
}

static void test_fatal(void)
{
	int status = 0;
	pid_t pid;

	redirect_stderr(NULL, true);
	pid = fork();
	if (pid == 0)
		fatal(EIO, "store");
	waitpid(pid, &status, 0);
	tap_is_str(captured(), "<2>store: Input/output error\n", "fatal: <2> (LOG_CRIT)");
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1, "fatal exits 1");
}

/* The foreground format: "HH:MM:SS.mmm cmcd: message". */
static bool foreground(const char *out, const char *first_msg)
{
	return strlen(out) > 13 && out[2] == ':' && out[8] == '.' &&
	       strncmp(out + 13, "cmcd: ", 6) == 0 && strncmp(out + 19, first_msg, strlen(first_msg)) == 0 &&
	       !strstr(out, "<4>") && !strstr(out, "<6>");
}

static void test_not_journal(void)
{
	const char *out;

	redirect_stderr(NULL, false);
	log_some();
	out = captured();
	tap_ok(foreground(out, "slot 2: card gone\n"), "no JOURNAL_STREAM: foreground lines");
	if (!foreground(out, "slot 2: card gone\n"))
		tap_diag("got: %s", out);

	redirect_stderr("1:1", false);
	log_some();
	tap_ok(foreground(captured(), "slot 2: card gone\n"),
	       "JOURNAL_STREAM names another stream (inherited): foreground lines");

	redirect_stderr("garbage", false);
	log_some();
	tap_ok(foreground(captured(), "slot 2: card gone\n"), "malformed JOURNAL_STREAM: foreground lines");
}

int main(void)
{
	int out = dup(STDERR_FILENO);

	tap_plan(6);
	test_journal();
	test_fatal();
	test_not_journal();
	dup2(out, STDERR_FILENO);
	return tap_failed ? 1 : 0;
}
