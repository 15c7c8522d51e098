/* chat_numerics: what IRC's numeric replies mean for a group chat -- pure
 * logic (GLib only), so the unit tests check it without libpurple. */
#ifndef FERRY_WORKER_CHAT_NUMERICS_H
#define FERRY_WORKER_CHAT_NUMERICS_H

#include <glib.h>
#include <stdbool.h>

/* The WORKER_CHAT_FAIL_* a numeric ("471") refusing a JOIN means, or -1
 * when it refuses no join. 437 (ERR_UNAVAILRESOURCE) is a join refusal
 * only when it names a channel (chat_numeric_is_channel), else a nick's. */
int chat_numeric_join_failure(const char *numeric);

/* true for the numerics that refuse a NICK change: 432 (erroneous), 433
 * (in use), 437 (temporarily unavailable), 484 (restricted), 435 (banned
 * on a channel), 438 (changed too fast), 447 (a +N channel). */
bool chat_numeric_refuses_nick(const char *numeric);

/* true for the numerics that refuse a TOPIC of a channel we are in: 482
 * (not op), 442 (not on it), 477 (registered nicks only), 489 (TLS only).
 * 482 and 442 refuse an INVITE too, 477 a JOIN: what waits decides. */
bool chat_numeric_refuses_topic(const char *numeric);

/* true when NAME starts with an IRC channel prefix (# & + !). */
bool chat_numeric_is_channel(const char *name);

#endif
