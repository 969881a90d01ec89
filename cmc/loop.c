/* SPDX-License-Identifier: MIT */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct cmc_watch {
	int fd;
	cmc_fd_fn fn;
	void *arg;
	bool dead;
	struct cmc_watch *next_dead;
};

struct cmc_timer {
	struct cmc_watch *watch;
	int fd;
	cmc_timer_fn fn;
	void *arg;
};

struct cmc_loop {
	int epfd;
	bool quit;
	int sigfd;
	struct cmc_watch *sigwatch;
	cmc_signal_fn sigfn;
	void *sigarg;
	struct cmc_watch *dead;	/* freed after the current dispatch round */
};

int cmc_loop_new(struct cmc_loop **out)
{
	struct cmc_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = -errno;
		free(loop);
		return err;
	}
	loop->sigfd = -1;
	*out = loop;
	return 0;
}

static void loop_reap(struct cmc_loop *loop)
{
	while (loop->dead) {
		struct cmc_watch *w = loop->dead;
		loop->dead = w->next_dead;
		free(w);
	}
}

void cmc_loop_free(struct cmc_loop *loop)
{
	if (!loop)
		return;
	if (loop->sigwatch)
		cmc_loop_del_fd(loop, loop->sigwatch);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	loop_reap(loop);
	close(loop->epfd);
	free(loop);
}

int cmc_loop_add_fd(struct cmc_loop *loop, int fd, uint32_t events, cmc_fd_fn fn, void *arg,
		    struct cmc_watch **out)
{
	struct cmc_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOMEM;
	*w = (struct cmc_watch){ .fd = fd, .fn = fn, .arg = arg };
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(w);
		return err;
	}
	if (out)
		*out = w;
	return 0;
}

int cmc_loop_mod_fd(struct cmc_loop *loop, struct cmc_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void cmc_loop_del_fd(struct cmc_loop *loop, struct cmc_watch *w)
{
	if (!w || w->dead)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	w->next_dead = loop->dead;
	loop->dead = w;
}

static void timer_fired(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_timer *t = arg;
	uint64_t expirations;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;	/* spurious wake-up (EAGAIN): nothing expired */
	t->fn(loop, t, t->arg);
}

int cmc_timer_arm(struct cmc_timer *t, unsigned first_ms, unsigned period_ms)
{
	struct itimerspec its = {
		.it_value = { first_ms / 1000, (long)(first_ms % 1000) * 1000000 },
		.it_interval = { period_ms / 1000, (long)(period_ms % 1000) * 1000000 },
	};

	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int cmc_loop_add_timer(struct cmc_loop *loop, unsigned first_ms, unsigned period_ms,
		       cmc_timer_fn fn, void *arg, struct cmc_timer **out)
{
	struct cmc_timer *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	*t = (struct cmc_timer){ .fn = fn, .arg = arg };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0) {
		err = -errno;
		goto err_free;
	}
	err = cmc_timer_arm(t, first_ms, period_ms);
	if (err)
		goto err_close;
	err = cmc_loop_add_fd(loop, t->fd, EPOLLIN, timer_fired, t, &t->watch);
	if (err)
		goto err_close;
	*out = t;
	return 0;
err_close:
	close(t->fd);
err_free:
	free(t);
	return err;
}

void cmc_loop_del_timer(struct cmc_loop *loop, struct cmc_timer *t)
{
	if (!t)
		return;
	cmc_loop_del_fd(loop, t->watch);
	close(t->fd);
	free(t);
}

static void signal_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		loop->sigfn(loop, (int)si.ssi_signo, loop->sigarg);
}

int cmc_loop_add_signals(struct cmc_loop *loop, const int *signos, int n, cmc_signal_fn fn,
			 void *arg)
{
	sigset_t set;
	int err;

	if (loop->sigfd >= 0)
		return -EBUSY;
	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, signos[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		return -errno;
	loop->sigfn = fn;
	loop->sigarg = arg;
	err = cmc_loop_add_fd(loop, loop->sigfd, EPOLLIN, signal_ready, NULL, &loop->sigwatch);
	if (err) {
		close(loop->sigfd);
		loop->sigfd = -1;
	}
	return err;
}

void cmc_loop_quit(struct cmc_loop *loop)
{
	loop->quit = true;
}

int cmc_loop_run(struct cmc_loop *loop)
{
	struct epoll_event evs[32];

	while (!loop->quit) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !loop->quit; i++) {
			struct cmc_watch *w = evs[i].data.ptr;
			if (!w->dead)
				w->fn(loop, w->fd, evs[i].events, w->arg);
		}
		loop_reap(loop);
	}
	loop->quit = false;	/* this run is over: a later one runs again */
	return 0;
}
