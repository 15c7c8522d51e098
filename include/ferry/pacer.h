/* pacer: a token bucket with a queue, to spread legacy logins over time.
 *
 * Legacy servers limit how fast one address may connect (public IRC
 * networks throttle or ban a host that opens hundreds of connections at
 * once), and a transport is one address for all its users. After a restart
 * or a worker crash every user wants to log in again; the pacer lets RATE
 * logins per second through, BURST at once, in arrival order.
 *
 * Pure logic, no timers and no I/O: the caller passes the monotonic time
 * (microseconds) and arms its own timer from pacer_wait_us(). Keys are
 * strings (bare JIDs); each is queued at most once. */
#ifndef FERRY_PACER_H
#define FERRY_PACER_H

#include <glib.h>
#include <stdbool.h>

struct pacer;

/* RATE > 0 per second; BURST >= 1. The bucket starts full. */
struct pacer *pacer_new(double rate, double burst, gint64 now_us);
void pacer_free(struct pacer *pacer);

/* true: KEY may go now (a token is taken). false: KEY waits in the queue
 * (or already did); pacer_next() hands it out later. Nobody overtakes a
 * non-empty queue. */
bool pacer_admit(struct pacer *pacer, const char *key, gint64 now_us);

/* Takes a token for a login that cannot wait (a user registering); the
 * bucket may go into debt, which delays the queue. */
void pacer_charge(struct pacer *pacer, gint64 now_us);

/* The next queued key that may go now (a token is taken), or NULL. The
 * caller frees it. */
char *pacer_next(struct pacer *pacer, gint64 now_us);

/* Microseconds until pacer_next() can hand out a key: 0 now, -1 when the
 * queue is empty. */
gint64 pacer_wait_us(const struct pacer *pacer, gint64 now_us);

/* Drops KEY from the queue (its user went away); false if it was not
 * queued. */
bool pacer_remove(struct pacer *pacer, const char *key);

/* Keys waiting. */
guint pacer_queued(const struct pacer *pacer);

#endif
