/* SPDX-License-Identifier: MIT */
/*
 * The daemon's one event loop (epoll): file descriptors with a callback each, one-shot
 * and periodic timers (timerfd), and signals (signalfd). Idle means asleep in epoll_wait.
 */
#ifndef CMC_LOOP_H
#define CMC_LOOP_H

#include "clock.h"	/* cmc_now_ms(): the loop's timers count in it */

#include <stdint.h>

#define CMC_MUST_CHECK __attribute__((warn_unused_result))

struct cmc_loop;
struct cmc_watch;
struct cmc_timer;

/* events: EPOLLIN/EPOLLOUT/... as given by epoll. */
typedef void (*cmc_fd_fn)(struct cmc_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*cmc_timer_fn)(struct cmc_loop *loop, struct cmc_timer *timer, void *arg);
typedef void (*cmc_signal_fn)(struct cmc_loop *loop, int signo, void *arg);

int cmc_loop_new(struct cmc_loop **out) CMC_MUST_CHECK;
void cmc_loop_free(struct cmc_loop *loop);

int cmc_loop_add_fd(struct cmc_loop *loop, int fd, uint32_t events, cmc_fd_fn fn, void *arg,
		    struct cmc_watch **out) CMC_MUST_CHECK;
int cmc_loop_mod_fd(struct cmc_loop *loop, struct cmc_watch *w, uint32_t events) CMC_MUST_CHECK;
/* Safe to call from inside the watch's own callback. Does not close the fd. */
void cmc_loop_del_fd(struct cmc_loop *loop, struct cmc_watch *w);

/* A timer firing after first_ms, then every period_ms (0 = once). */
int cmc_loop_add_timer(struct cmc_loop *loop, unsigned first_ms, unsigned period_ms,
		       cmc_timer_fn fn, void *arg, struct cmc_timer **out) CMC_MUST_CHECK;
/* Re-arm (first_ms 0 disarms). */
int cmc_timer_arm(struct cmc_timer *t, unsigned first_ms, unsigned period_ms) CMC_MUST_CHECK;
void cmc_loop_del_timer(struct cmc_loop *loop, struct cmc_timer *t);

/* Block the signals and deliver them through the loop. */
int cmc_loop_add_signals(struct cmc_loop *loop, const int *signos, int n, cmc_signal_fn fn,
			 void *arg) CMC_MUST_CHECK;

/* Runs until cmc_loop_quit (asked before or during the run; it ends that run only, a later
 * call runs again); returns 0 or -errno if epoll itself failed. */
int cmc_loop_run(struct cmc_loop *loop) CMC_MUST_CHECK;
void cmc_loop_quit(struct cmc_loop *loop);


#endif
