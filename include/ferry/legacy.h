/* legacy: what the transport sees of the legacy side. One legacy account
 * per login, named by an account id; typed commands go down (the
 * catalogue's commands, worker_protocol.h) and decoded events come up (its
 * events), dispatched to typed callbacks (worker_msgs.h). The transport
 * never sees a format string or a frame.
 *
 * Two implementations: legacy_new_workers() over the pool of ferry-worker
 * processes (src/legacy/legacy.c), and a scripted fake for unit tests
 * (tests/unit/fake_legacy.c). Both go through legacy_new() with their
 * struct legacy_ops.
 */
#ifndef FERRY_LEGACY_H
#define FERRY_LEGACY_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/worker_msgs.h"

struct legacy;
struct workers_options;

/* One event from the legacy side; borrowed for the callback. */
struct legacy_event;

/* Why an account's reading stopped for longer than the stall bound. */
enum legacy_stall {
	LEGACY_STALL_OWN,       /* its own events fill the queue (its key's mark) */
	LEGACY_STALL_QUEUE,     /* the link is up but the whole queue is over its mark */
	LEGACY_STALL_LINK_DOWN, /* the XMPP link is down */
};

struct legacy_callbacks {
	/* An event for ACCOUNT (never 0); legacy_event_dispatch() decodes it. */
	void (*event)(void *data, guint32 account, const struct legacy_event *event);
	/* ACCOUNT is gone (its worker died); it needs no logout. */
	void (*lost)(void *data, guint32 account);
	/* Optional: ACCOUNT has not read from its network for longer than the
	 * stall bound (legacy_set_stall_limit), for reason WHY as it stands
	 * when the bound passes. Once per pause; the callee is expected to log
	 * it out. */
	void (*stalled)(void *data, guint32 account, enum legacy_stall why);
	/* Optional: DEATHS worker processes died within SECONDS (a crash
	 * loop), told once per loop: the admins hear of it. */
	void (*crash_loop)(void *data, guint deaths, guint seconds);
};

/* One process of the legacy side, for the admins (legacy_stats). */
struct legacy_process {
	int pid;
	guint accounts; /* accounts it hosts now */
	guint64 rss_kb; /* resident memory in KiB; 0: unknown */
};

/* ---- commands -------------------------------------------------------------- */

/* Starts a login (LOGIN's account member is ignored): returns the new
 * account id, or 0 with ERROR set when nothing could take the login. The
 * password is not kept. */
guint32 legacy_login(struct legacy *legacy, const struct worker_msg_login *login, GError **error);

/* Sends command NAME built from designated initializers, e.g.
 * LEGACY_SEND(legacy, send_im, .account = id, .seq = 7, .name = "bob",
 * .text = html). The compiler checks the members against the catalogue.
 * Evaluates to false when the account is unknown (its worker died): the
 * command went nowhere. */
#define LEGACY_SEND(legacy, name, ...) legacy_send_frame((legacy), WORKER_FRAME(name, __VA_ARGS__))

/* Logs ACCOUNT out and forgets it; what it acknowledged before is reported
 * first. Unknown accounts are ignored. */
void legacy_logout(struct legacy *legacy, guint32 account);

/* True when ACCOUNT, logged out, will still report on its messages: its
 * DISCONNECTED (reason LOGOUT) is yet to come, and comes in any case. */
bool legacy_logout_pending(struct legacy *legacy, guint32 account);

/* While HOLD, commands wait; releasing sends them with as few system calls
 * as it takes (main.c holds them over one read from the server). */
void legacy_hold(struct legacy *legacy, bool hold);

/* Delivers now what the legacy side already knows of ACCOUNT's messages
 * (acknowledgements and progress, otherwise read about once a second). */
void legacy_sync(struct legacy *legacy, guint32 account);

/* ---- events ---------------------------------------------------------------- */

/* Where events go from now on (DATA borrowed; NULL CALLBACKS: nowhere). */
void legacy_set_callbacks(struct legacy *legacy, const struct legacy_callbacks *callbacks,
                          void *data);

/* Decodes EVENT and calls HANDLERS' callback for its type with DATA; false
 * (nothing called) when HANDLERS has none for it. */
bool legacy_event_dispatch(const struct legacy_event *event,
                           const struct worker_msg_handlers *handlers, void *data);

/* The name of the event's message type, for logs. */
const char *legacy_event_name(const struct legacy_event *event);

/* The account EVENT is from. */
guint32 legacy_event_account(const struct legacy_event *event);

/* Around each event and loss passed on, SCOPE(DATA, account) before and
 * SCOPE(DATA, outer) after (0, or the account of the event it came
 * inside): main.c tags what the event makes the gateway send
 * with its account (component_set_key). NULL: none. */
void legacy_set_event_scope(struct legacy *legacy, void (*scope)(void *data, guint32 account),
                            void *data);

/* The processes of the legacy side (struct legacy_process; caller frees
 * the array; empty for an implementation without processes) and in
 * *DEATHS how many died since the start. */
GArray *legacy_stats(struct legacy *legacy, guint *deaths);

/* The last LINK_INFO ACCOUNT reported, decoded into *INFO (release with
 * worker_msg_link_info_clear()); false when none came (or the account is
 * gone). For a new owner of the account (a kept login adopted). */
bool legacy_link_info(struct legacy *legacy, guint32 account, struct worker_msg_link_info *info);

/* ---- backpressure ---------------------------------------------------------------
 *
 * When what the legacy side reports cannot go out (the XMPP server reads
 * slowly or the component link is down), reading stops instead of anything
 * being dropped: the account's worker is sent PAUSE_READ and stops polling
 * that account's legacy connection until told to resume. An account is
 * paused while its own events fill the queue (per account) or while the
 * whole link is congested (ACCOUNT 0: every account). A login in progress
 * is not paused (it must read to sign on): it is from its CONNECTED on. */

/* ACCOUNT's (0: the whole link's) congestion began or ended. */
void legacy_set_congested(struct legacy *legacy, guint32 account, bool congested);

/* Whether the whole link's congestion (ACCOUNT 0) is because the link is
 * down (DOWN) or because the server reads slowly while it is up: only
 * what a stall is reported as (callbacks' stalled). Up by default. */
void legacy_set_link_down(struct legacy *legacy, bool down);

/* ACCOUNT changed owner (a registration's kept login adopted by a
 * session): a pause going on counts from now, and is reported again, to
 * the new owner, once beyond the bound (the old one may have let it be). */
void legacy_new_owner(struct legacy *legacy, guint32 account);

/* Whether ACCOUNT's reading is paused now. */
bool legacy_paused(const struct legacy *legacy, guint32 account);

/* An account paused for longer than SECONDS is reported (callbacks'
 * stalled); 0 (the default): never. */
void legacy_set_stall_limit(struct legacy *legacy, guint seconds);

/* ---- implementations ---------------------------------------------------------- */

struct legacy_ops {
	/* as legacy_login(): assigns the account id */
	guint32 (*login)(void *impl, const struct worker_msg_login *login, GError **error);
	/* sends FRAME (taken) to the frame's account; false when unknown */
	bool (*send)(void *impl, GBytes *frame);
	void (*logout)(void *impl, guint32 account);
	/* as legacy_logout_pending(); may be NULL (a logout is final at once) */
	bool (*logout_pending)(void *impl, guint32 account);
	void (*hold)(void *impl, bool hold);
	/* as legacy_sync(); may be NULL (events are never late) */
	void (*sync)(void *impl, guint32 account);
	/* as legacy_stats(); may be NULL (no processes, no deaths) */
	GArray *(*stats)(void *impl, guint *deaths);
	/* frees IMPL: stops everything (no events after it) */
	void (*free)(void *impl);
};

/* A legacy side over OPS with IMPL (taken: freed with ops->free). */
struct legacy *legacy_new(const struct legacy_ops *ops, void *impl);

/* Frees the implementation, then LEGACY. NULL is a no-op. */
void legacy_free(struct legacy *legacy);

/* For implementations: an event of TYPE for ACCOUNT with PAYLOAD (checked
 * against the catalogue; borrowed), or the loss of ACCOUNT, to whoever set
 * the callbacks. */
void legacy_emit(struct legacy *legacy, guint32 type, guint32 account, GVariant *payload);
void legacy_emit_lost(struct legacy *legacy, guint32 account);
/* For implementations: a crash loop (callbacks' crash_loop). */
void legacy_emit_crash_loop(struct legacy *legacy, guint deaths, guint seconds);

/* For LEGACY_SEND: sends FRAME (taken; NULL, a programming error already
 * logged, is refused). */
bool legacy_send_frame(struct legacy *legacy, GBytes *frame);

/* The legacy side over ferry-worker processes (include/ferry/workers.h):
 * OPTIONS is copied; min_workers are started now. */
struct legacy *legacy_new_workers(const struct workers_options *options);

#endif
