/* SPDX-License-Identifier: MIT */
/*
 * pty-run: run a command on a pseudo-terminal and copy what it writes to stdout, so a
 * test can see what a person at a terminal sees (progress bars, redraws) from a shell
 * that has no `script`. Bounded: the command is killed after the timeout.
 *
 *   pty-run [-t SECONDS] COMMAND [ARGS...]      exit: the command's, 124 on timeout
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int timeout = 60, master, status = 0, argi = 1;
	struct winsize ws = { .ws_row = 40, .ws_col = 132 };
	time_t deadline;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout = atoi(argv[2]);
		argi = 3;
	}
	if (argi >= argc || timeout <= 0) {
		fprintf(stderr, "usage: pty-run [-t SECONDS] COMMAND [ARGS...]\n");
		return 2;
	}
	pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0) {
		perror("pty-run: forkpty");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[argi], argv + argi);
		perror("pty-run: exec");
		_exit(127);
	}
	deadline = time(NULL) + timeout;
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (time(NULL) >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fprintf(stderr, "pty-run: timed out after %d s\n", timeout);
			return 124;
		}
		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(master, buf, sizeof(buf));
		if (n <= 0)
			break;	/* EIO: the command closed its side */
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		fflush(stdout);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
