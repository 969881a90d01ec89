/* SPDX-License-Identifier: MIT */
/*
 * pty-run: run a command on a pseudo-terminal and copy what it writes to stdout, so a
 * test can see what a person at a terminal sees (progress bars, redraws) from a shell
 * that has no `script`. Bounded: the command is killed after the timeout.
 *
 *   pty-run [-i] [-t SECONDS] COMMAND [ARGS...]      exit: the command's, 124 on timeout
 *
 * -i: what arrives on pty-run's stdin is typed on the terminal (a test drives an
 * interactive program through a pipe); without it the command gets no input.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Copies what is on stdin to the terminal; false once stdin is at its end. */
static bool type_input(int master)
{
	char buf[1024];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(master, buf + off, (size_t)(n - off));
		if (w < 0 && errno != EINTR)
			return false;
		off += w > 0 ? w : 0;
	}
	return true;
}

int main(int argc, char **argv)
{
	int timeout = 60, master, status = 0, argi = 1;
	bool input = false;
	struct winsize ws = { .ws_row = 40, .ws_col = 132 };
	time_t deadline;
	pid_t pid;

	if (argc > argi && strcmp(argv[argi], "-i") == 0) {
		input = true;
		argi++;
	}
	if (argc > argi + 1 && strcmp(argv[argi], "-t") == 0) {
		timeout = atoi(argv[argi + 1]);
		argi += 2;
	}
	if (argi >= argc || timeout <= 0) {
		fprintf(stderr, "usage: pty-run [-i] [-t SECONDS] COMMAND [ARGS...]\n");
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
		struct pollfd p[2] = { { .fd = master, .events = POLLIN },
				       { .fd = STDIN_FILENO, .events = POLLIN } };
		char buf[4096];
		ssize_t n;

		if (time(NULL) >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fprintf(stderr, "pty-run: timed out after %d s\n", timeout);
			return 124;
		}
		if (poll(p, input ? 2 : 1, 1000) <= 0)
			continue;
		if (input && p[1].revents)
			input = type_input(master);
		if (!p[0].revents)
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
