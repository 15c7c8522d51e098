/* pacer: a token bucket with a queue, to spread legacy logins over time;
 * and ratelimit, token buckets by key, for what one sender may cause.
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

/* The first lane, for logins a user is waiting for (a registration's
 * check): true when a token is free, whatever waits in the other lane,
 * unless the last token went to this lane while the other waits (at most
 * every other token, so a flood of checks cannot starve the other lane);
 * false: KEY waits in the first lane (or already did), which
 * pacer_next() serves before the other, with the same share. Keys of the
 * two lanes are apart: one key may wait in both. Counted like any login,
 * so a flood of them is paced too. */
bool pacer_admit_first(struct pacer *pacer, const char *key, gint64 now_us);

/* Takes a token for a login that cannot wait (a user registering); the
 * bucket may go into debt, which delays the queue. */
void pacer_charge(struct pacer *pacer, gint64 now_us);

/* The next queued key that may go now (a token is taken), or NULL: the
 * first lane's before the other's, except right after the first lane's
 * while the other waits. The caller frees it. */
char *pacer_next(struct pacer *pacer, gint64 now_us);
/* The same, saying in *FIRST (if not NULL) which lane it came from. */
char *pacer_next_lane(struct pacer *pacer, gint64 now_us, bool *first);

/* Microseconds until pacer_next() can hand out a key: 0 now, -1 when the
 * queue is empty. */
gint64 pacer_wait_us(const struct pacer *pacer, gint64 now_us);

/* Drops KEY from the queue (its user went away); false if it was not
 * queued. */
bool pacer_remove(struct pacer *pacer, const char *key);
/* The same for the first lane. */
bool pacer_remove_first(struct pacer *pacer, const char *key);

/* Keys waiting, in both lanes. */
guint pacer_queued(const struct pacer *pacer);

/* ---- ratelimit ---------------------------------------------------------------
 *
 * A token bucket per key (a sender's JID): BURST at once, then PER_SECOND.
 * At most MAX_KEYS buckets are kept: a key whose bucket is full again is
 * forgotten when room is needed, and while MAX_KEYS keys are inside their
 * window any new key is refused, so a flood from many senders is bounded
 * in memory and in what it causes. Pure logic, like the pacer. */
struct ratelimit;

struct ratelimit *ratelimit_new(double burst, double per_second, guint max_keys);
void ratelimit_free(struct ratelimit *ratelimit);
/* true: KEY may act now (a token is taken); false: over its rate, or too
 * many keys at once. */
bool ratelimit_take(struct ratelimit *ratelimit, const char *key, gint64 now_us);
/* Microseconds until KEY has a token again (0: now). */
gint64 ratelimit_wait_us(const struct ratelimit *ratelimit, const char *key, gint64 now_us);
/* Buckets kept. */
guint ratelimit_keys(const struct ratelimit *ratelimit);

#endif
