/* SPDX-License-Identifier: MIT */
/*
 * The blades' worker (bladework.h): a FIFO of jobs, one thread that runs them against the
 * blades' backend, and a list of finished jobs the loop takes through an eventfd.
 *
 * The loop gives (cmc_bw_submit) and takes back (jobs_done); the worker only takes from
 * `todo` and gives to `done`. Both lists are under one mutex, held only to link or unlink
 * a job, never across a backend call.
 */
#include "bladework.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

struct job {
	struct job *next;
	cmc_bw_done_fn done;
	void *arg;
	unsigned n;
	struct cmc_bw_op ops[];
};

struct cmc_bw {
	struct cmc_loop *loop;
	struct mp_blade_backend *be;
	int efd;			/* the worker's "a job is done", watched by the loop */
	struct cmc_watch *watch;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;		/* a job was queued, or stop */
	struct job *todo, **todo_tail;	/* under lock */
	struct job *done, **done_tail;	/* under lock */
	bool stopping;			/* under lock */
	unsigned queued;		/* the loop's own count: submitted, not yet called back */
};

/* --- On the worker -------------------------------------------------------------------------- */

static void down_up(struct mp_blade_backend *be, struct cmc_bw_op *op)
{
	char ignored[128];

	(void)!mp_blade_set_up(be, op->blade, op->ifname, false, ignored, sizeof(ignored));
	(void)!mp_blade_set_up(be, op->blade, op->ifname, true, ignored, sizeof(ignored));
	op->bounced = true;
}

static void run_map(struct mp_blade_backend *be, struct cmc_bw_op *op)
{
	op->rc = mp_blade_map(be, op->bdf, op->blade, op->ifname, op->err, sizeof(op->err));
	if (!op->rc && op->cidr[0])
		op->rc = mp_blade_set_addr(be, op->blade, op->ifname, op->cidr, op->err, sizeof(op->err));
	if (op->rc)
		return;
	/* A VF driver learns its MAC when it resets: one whose settings changed while nobody
	 * had it up (the kernel PF tells no VF) still holds the old one. Up with another
	 * MAC, it is taken down and up, so it resets and asks again. */
	if (mp_blade_netdev(be, op->blade, op->ifname, &op->nd, op->err, sizeof(op->err)) == 0 &&
	    op->nd.present && op->nd.up && memcmp(op->nd.mac, op->mac, 6) != 0)
		down_up(be, op);
	op->err[0] = 0;
}

#define VMPORT_CARRIER_MS 3000	/* igbvf reports carrier from its watchdog, every 2 s */
#define VMPORT_POLL_MS 50

/*
 * A VM's port, then its VF's carrier, waited for (bounded): a bridge forwards nothing
 * through a port without carrier, so a port is ready only once its VF has one (a
 * migration's destination announces the VM through it at the switch-over). Without
 * carrier after VMPORT_CARRIER_MS the port is built all the same (nd.carrier false).
 */
static void run_vmport(struct mp_blade_backend *be, struct cmc_bw_op *op)
{
	op->rc = mp_blade_vmport_add(be, op->blade, op->ifname, op->bridge, op->tap, op->mac, op->err,
				     sizeof(op->err));
	for (unsigned t = 0; !op->rc && t < VMPORT_CARRIER_MS; t += VMPORT_POLL_MS) {
		if (mp_blade_netdev(be, op->blade, op->ifname, &op->nd, NULL, 0) < 0 || op->nd.carrier)
			return;
		(void)!nanosleep(&(struct timespec){ .tv_nsec = VMPORT_POLL_MS * 1000000L }, NULL);
	}
}

static void run_op(struct mp_blade_backend *be, struct cmc_bw_op *op)
{
	op->rc = 0;
	op->err[0] = 0;
	op->bounced = false;
	op->fd = -1;
	memset(&op->nd, 0, sizeof(op->nd));
	if (!be) {
		op->rc = -ENOTSUP;
		snprintf(op->err, sizeof(op->err), "no blade backend");
		return;
	}
	switch (op->kind) {
	case CMC_BW_CREATE:
		op->rc = mp_blade_create(be, op->blade, op->err, sizeof(op->err));
		if (!op->rc && mp_blade_watch_open(be, op->blade, &op->fd, op->err, sizeof(op->err)) < 0)
			op->fd = -1;	/* err says why; the blade exists all the same */
		return;
	case CMC_BW_MAP:
		run_map(be, op);
		return;
	case CMC_BW_UNMAP:
		op->rc = mp_blade_unmap(be, op->bdf, op->blade, op->ifname, op->err, sizeof(op->err));
		return;
	case CMC_BW_VMPORT:
		run_vmport(be, op);
		return;
	case CMC_BW_VMPORT_DEL:
		op->rc = mp_blade_vmport_del(be, op->blade, op->bridge, op->tap, op->err, sizeof(op->err));
		return;
	case CMC_BW_NFT: {
		static const char *const argv[] = { CMC_BW_NFT_PATH, "-f", "-", NULL };

		op->rc = mp_blade_run(be, op->blade, argv, op->nft, CMC_BW_NFT_TIMEOUT_MS, op->err, sizeof(op->err));
		return;
	}
	case CMC_BW_BOUNCE:
	case CMC_BW_KICK:
	case CMC_BW_LOOK:
		op->rc = mp_blade_netdev(be, op->blade, op->ifname, &op->nd, op->err, sizeof(op->err));
		if (op->rc || !op->nd.present || !op->nd.up || op->kind == CMC_BW_LOOK ||
		    (op->kind == CMC_BW_KICK && op->nd.carrier))
			return;
		down_up(be, op);
		return;
	case CMC_BW_HEALTH:
		op->rc = mp_blade_health(be, op->blade, &op->nd.present, op->err, sizeof(op->err));
		return;
	case CMC_BW_POWER_OFF:
		op->rc = mp_blade_power_off(be, op->blade, op->err, sizeof(op->err));
		return;
	}
}

static void *worker(void *arg)
{
	struct cmc_bw *bw = arg;
	uint64_t one = 1;

	for (;;) {
		struct job *j;
		bool cancel;

		pthread_mutex_lock(&bw->lock);
		while (!bw->todo && !bw->stopping)
			pthread_cond_wait(&bw->more, &bw->lock);
		j = bw->todo;
		if (!j) {
			pthread_mutex_unlock(&bw->lock);
			return NULL;	/* stopping, nothing left: cmc_bw_stop cancels the rest */
		}
		if (bw->stopping) {
			pthread_mutex_unlock(&bw->lock);
			return NULL;
		}
		bw->todo = j->next;
		if (!bw->todo)
			bw->todo_tail = &bw->todo;
		pthread_mutex_unlock(&bw->lock);

		cancel = false;
		for (unsigned i = 0; i < j->n; i++) {
			if (!cancel) {
				pthread_mutex_lock(&bw->lock);
				cancel = bw->stopping;
				pthread_mutex_unlock(&bw->lock);
			}
			if (cancel)
				j->ops[i].rc = -ECANCELED;
			else
				run_op(bw->be, &j->ops[i]);
		}
		j->next = NULL;
		pthread_mutex_lock(&bw->lock);
		*bw->done_tail = j;
		bw->done_tail = &j->next;
		pthread_mutex_unlock(&bw->lock);
		/* An eventfd write of 1 cannot block: the loop reads the counter down. */
		(void)!write(bw->efd, &one, sizeof(one));
	}
}

/* --- On the loop ---------------------------------------------------------------------------- */

static void call_back(struct cmc_bw *bw, struct job *j)
{
	bw->queued--;
	j->done(j->arg, j->ops, j->n);
	free(j);
}

static void jobs_done(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_bw *bw = arg;
	struct job *list, *next;
	uint64_t n;
	(void)loop;
	(void)events;

	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&bw->lock);
	list = bw->done;
	bw->done = NULL;
	bw->done_tail = &bw->done;
	pthread_mutex_unlock(&bw->lock);
	for (; list; list = next) {
		next = list->next;
		call_back(bw, list);
	}
}

int cmc_bw_start(struct cmc_loop *loop, struct mp_blade_backend *be, struct cmc_bw **out)
{
	struct cmc_bw *bw = calloc(1, sizeof(*bw));
	sigset_t all, old;
	int rc;

	if (!bw)
		return -ENOMEM;
	*bw = (struct cmc_bw){ .loop = loop, .be = be, .efd = -1 };
	bw->todo_tail = &bw->todo;
	bw->done_tail = &bw->done;
	pthread_mutex_init(&bw->lock, NULL);
	pthread_cond_init(&bw->more, NULL);
	bw->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (bw->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = cmc_loop_add_fd(loop, bw->efd, EPOLLIN, jobs_done, bw, &bw->watch);
	if (rc)
		goto fail;
	/* The loop takes its signals through a signalfd: the worker must not take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&bw->thread, NULL, worker, bw);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		goto fail;
	*out = bw;
	return 0;
fail:
	if (bw->watch)
		cmc_loop_del_fd(loop, bw->watch);
	if (bw->efd >= 0)
		close(bw->efd);
	pthread_cond_destroy(&bw->more);
	pthread_mutex_destroy(&bw->lock);
	free(bw);
	return rc;
}

int cmc_bw_submit(struct cmc_bw *bw, const struct cmc_bw_op *ops, unsigned n, cmc_bw_done_fn done, void *arg)
{
	struct job *j;

	if (!bw)
		return -ENOTSUP;
	j = malloc(sizeof(*j) + (size_t)n * sizeof(*ops));
	if (!j)
		return -ENOMEM;
	*j = (struct job){ .done = done, .arg = arg, .n = n };
	if (n)
		memcpy(j->ops, ops, (size_t)n * sizeof(*ops));
	pthread_mutex_lock(&bw->lock);
	if (bw->stopping) {
		pthread_mutex_unlock(&bw->lock);
		free(j);
		return -ESHUTDOWN;
	}
	*bw->todo_tail = j;
	bw->todo_tail = &j->next;
	pthread_cond_signal(&bw->more);
	pthread_mutex_unlock(&bw->lock);
	bw->queued++;
	return 0;
}

unsigned cmc_bw_pending(const struct cmc_bw *bw)
{
	return bw ? bw->queued : 0;
}

static void cancel_all(struct cmc_bw *bw, struct job *list)
{
	struct job *next;

	for (; list; list = next) {
		next = list->next;
		for (unsigned i = 0; i < list->n; i++)
			list->ops[i].rc = -ECANCELED;
		call_back(bw, list);
	}
}

void cmc_bw_stop(struct cmc_bw *bw)
{
	struct job *todo, *done;

	if (!bw)
		return;
	pthread_mutex_lock(&bw->lock);
	bw->stopping = true;
	pthread_cond_signal(&bw->more);
	pthread_mutex_unlock(&bw->lock);
	pthread_join(bw->thread, NULL);
	/* The thread is gone: the lists are the loop's alone. Finished jobs first, in order. */
	done = bw->done;
	todo = bw->todo;
	bw->done = bw->todo = NULL;
	for (struct job *j = done, *next; j; j = next) {
		next = j->next;
		call_back(bw, j);
	}
	cancel_all(bw, todo);
	cmc_loop_del_fd(bw->loop, bw->watch);
	close(bw->efd);
	pthread_cond_destroy(&bw->more);
	pthread_mutex_destroy(&bw->lock);
	free(bw);
}
