/* workers_internal (internal to src/legacy/): what the two files of the
 * worker pool share. Nothing outside them includes this.
 *
 * workers.c        the pool: writing, reading, supervision, the public API
 * workers_spawn.c  starting a worker process (socketpairs, private
 *                  directory, worker user, command line) and the
 *                  --describe run
 * workers_stats.c  what the admins see: the processes, their memory,
 *                  deaths and crash loops
 */
#ifndef FERRY_LEGACY_WORKERS_INTERNAL_H
#define FERRY_LEGACY_WORKERS_INTERNAL_H

#include <gio/gio.h>
#include <stdbool.h>

#include "ferry/workers.h"
#include "ferry/worker_protocol.h"
#include "inflight.h"

struct worker {
	struct workers *pool;
	GSubprocess *proc;
	char *pid;   /* for logs */
	int fd;      /* our end of the socketpair; -1 once closed */
	guint watch; /* fd watch */
	GIOCondition watch_cond;
	struct worker_reader *reader;
	int acks_fd; /* our end of the WORKER_ACKS_FD socketpair; -1 once closed */
	struct worker_reader *acks_reader;
	struct frame_queue out; /* frames to write */
	GHashTable *accounts;   /* account ids (GUINT_TO_POINTER) hosted here */
	GCancellable *wait_cancel;
	char *tmpdir; /* the worker's TMPDIR (libpurple's private dir lives
	                     there); ferry removes it after the worker exits */
	guint idle_timer;
	bool ready;    /* WORKER_READY seen */
	bool retiring; /* asked to shut down: takes no new accounts */
	bool dead;
	/* hosts one suspect account alone (see worker_died()): takes no
	 * other account until the suspect's messages have gone */
	bool solo;
};

struct workers {
	struct workers_options opt; /* strings owned */
	struct workers_callbacks cb;
	void *user_data;
	GPtrArray *list;            /* struct worker *, live ones */
	GHashTable *by_account;     /* account id -> struct worker * */
	struct inflight_book *book; /* messages in flight, suspects (inflight.h) */
	guint32 next_account;
	guint respawn_timer;    /* brings the pool back to min_workers */
	guint acks_timer;       /* reads the workers' acknowledgements, see drain_acks() */
	bool hold;              /* workers_hold(): queue, do not write yet */
	guint respawn_delay_ms; /* doubles while new workers die before READY */
	/* workers_stats.c */
	guint deaths;        /* workers that died (not stopped) since the start */
	GQueue death_times;  /* monotonic µs of the recent deaths (gint64 *), oldest first */
	gint64 loop_told_us; /* when the last crash loop was reported (0: never) */
};

/* Starts a worker for POOL (workers_spawn.c): in the pool's list and
 * watched, or NULL with ERROR set. */
struct worker *workers_spawn(struct workers *pool, GError **error);

/* Removes PATH and everything below it without following symlinks, by
 * directory fds (workers_spawn.c). */
void workers_remove_tree(const char *path);

/* SIGKILLs W's process group: the worker and its descendants
 * (workers_spawn.c). */
void workers_kill_group(struct worker *w);

/* Marks W dead, kills it and reports its accounts (workers.c). */
void worker_died(struct worker *w, const char *why);

/* Watches W's socket for what it needs now: reading, and writing while
 * frames are queued (workers.c). */
void worker_update_watch(struct worker *w);

/* A worker of POOL died (not a stop): counted, and a crash loop reported
 * through the callbacks (workers_stats.c). */
void workers_note_death(struct workers *pool);
/* Frees what workers_stats.c keeps (workers_free). */
void workers_stats_clear(struct workers *pool);

#endif
