/* logins: the pace of legacy logins (a token bucket, include/ferry/pacer.h,
 * with the timer that hands out waiting logins), and registrations'
 * checked logins kept for the session that follows.
 *
 * A registration checks the credentials with one login; when it succeeds
 * that login is kept here for a minute, and the user's session (which
 * starts when their presence arrives, after the subscription dance) takes
 * it over instead of logging in a second time: no nick clash with our own
 * check, no reconnect throttling. A user has one kept login at most: a
 * newer one replaces it.
 *
 * Checks are paced too, in the pacer's first lane: the user is waiting,
 * so a check goes before every session login in line, but a flood of
 * registrations cannot open connections faster than the pace. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/pacer.h"

/* How long an expiring kept login stays up after KEEP for the worker to
 * replay what it held (it does so at once, in one step). */
#define KEPT_REPLAY_MS 2000

struct logins {
	struct legacy *legacy;
	struct pacer *pacer;
	guint timer; /* hands out the next waiting login */
	const struct logins_callbacks *callbacks;
	void *data;
	GHashTable *kept; /* account id -> struct kept * */
	guint kept_ms;    /* how long a kept login waits (settings->kept_login_ms) */
};

/* A checked login waiting for its session. */
struct kept {
	struct logins *logins;
	guint32 account;
	char *jid;
	char *nick;
	guint timer;   /* kept_ms: logged out unless taken; then KEPT_REPLAY_MS */
	bool expiring; /* KEEP sent: its held messages go to the user offline */
};

static void kept_free(gpointer data)
{
	struct kept *k = data;
	g_clear_handle_id(&k->timer, g_source_remove);
	g_free(k->jid);
	g_free(k->nick);
	g_free(k);
}

struct logins *logins_new(struct legacy *legacy, guint rate, guint burst, guint kept_ms,
                          const struct logins_callbacks *callbacks, void *data)
{
	struct logins *l = g_new0(struct logins, 1);
	l->legacy = legacy;
	l->pacer = pacer_new(rate, burst, g_get_monotonic_time());
	l->kept_ms = kept_ms;
	l->callbacks = callbacks;
	l->data = data;
	l->kept = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, kept_free);
	return l;
}

void logins_free(struct logins *l)
{
	if (l == NULL)
		return;
	g_clear_handle_id(&l->timer, g_source_remove);
	g_clear_pointer(&l->pacer, pacer_free);
	g_hash_table_unref(l->kept);
	g_free(l);
}

/* ---- pacing ----------------------------------------------------------------------- */

static void arm(struct logins *l);

static gboolean release(gpointer data)
{
	struct logins *l = data;
	l->timer = 0;
	gint64 now = g_get_monotonic_time();
	char *jid;
	bool check = false;
	while ((jid = pacer_next_lane(l->pacer, now, &check)) != NULL) {
		if (check)
			l->callbacks->check_ready(l->data, jid);
		else
			l->callbacks->ready(l->data, jid);
		g_free(jid);
	}
	arm(l);
	return G_SOURCE_REMOVE;
}

static void arm(struct logins *l)
{
	if (l->timer != 0)
		return;
	gint64 wait_us = pacer_wait_us(l->pacer, g_get_monotonic_time());
	if (wait_us >= 0)
		l->timer = g_timeout_add((guint)MAX(1, (wait_us + 999) / 1000), release, l);
}

bool logins_admit(struct logins *l, const char *bare_jid)
{
	if (pacer_admit(l->pacer, bare_jid, g_get_monotonic_time()))
		return true;
	arm(l);
	return false;
}

void logins_cancel(struct logins *l, const char *bare_jid)
{
	(void)pacer_remove(l->pacer, bare_jid);
}

guint logins_waiting(const struct logins *l)
{
	return pacer_queued(l->pacer);
}

bool logins_admit_check(struct logins *l, const char *bare_jid)
{
	if (pacer_admit_first(l->pacer, bare_jid, g_get_monotonic_time()))
		return true;
	arm(l);
	return false;
}

void logins_cancel_check(struct logins *l, const char *bare_jid)
{
	(void)pacer_remove_first(l->pacer, bare_jid);
}

/* ---- kept logins ------------------------------------------------------------------- */

static gboolean kept_replayed(gpointer data)
{
	struct kept *k = data;
	k->timer = 0;
	struct logins *l = k->logins;
	guint32 account = k->account;
	g_hash_table_remove(l->kept, GUINT_TO_POINTER(account)); /* frees K */
	legacy_logout(l->legacy, account);
	return G_SOURCE_REMOVE;
}

/* No session took the login in time (the user went offline, or their
 * presence never reached us). The worker has been holding what arrived
 * for it: KEEP releases that, and the messages go to the user's bare JID,
 * which the server keeps offline; then the login ends. */
static gboolean kept_expired(gpointer data)
{
	struct kept *k = data;
	k->timer = 0;
	k->expiring = true;
	g_info("logins: %s: no session took the registration's login (account %u); ending it",
	       k->jid, k->account);
	if (!LEGACY_SEND(k->logins->legacy, keep, .account = k->account))
		return kept_replayed(k);
	k->timer = g_timeout_add(KEPT_REPLAY_MS, kept_replayed, k);
	return G_SOURCE_REMOVE;
}

void logins_keep(struct logins *l, guint32 account, const char *bare_jid, const char *nick)
{
	/* One legacy connection per user: an earlier kept login (a
	 * registration a moment ago that no session took yet) ends. */
	GHashTableIter it;
	gpointer value;
	struct kept *old = NULL;
	g_hash_table_iter_init(&it, l->kept);
	while (old == NULL && g_hash_table_iter_next(&it, NULL, &value)) {
		struct kept *k = value;
		/* one expiring already ends within KEPT_REPLAY_MS, replaying */
		if (strcmp(k->jid, bare_jid) == 0 && k->account != account && !k->expiring)
			old = k; /* there is one at most */
	}
	if (old != NULL) {
		/* It ends as an expiry does (outside the loop: that can remove
		 * it): KEEP first, so the worker hands over what it held for the
		 * user (messages that came meanwhile, delivered offline). The
		 * logout follows at once, not KEPT_REPLAY_MS later, so the user
		 * never holds two connections: the worker answers the KEEP before
		 * the LOGOUT, and the pool delivers a logged-out account's last
		 * events, which the entry (kept until then) still routes here. */
		guint32 gone = old->account;
		g_info("logins: %s: a newer registration's login replaces the kept one "
		       "(account %u)",
		       bare_jid, gone);
		g_clear_handle_id(&old->timer, g_source_remove);
		(void)kept_expired(old);
		if (g_hash_table_contains(l->kept, GUINT_TO_POINTER(gone)))
			legacy_logout(l->legacy, gone);
	}
	struct kept *k = g_new0(struct kept, 1);
	k->logins = l;
	k->account = account;
	k->jid = g_strdup(bare_jid);
	k->nick = g_strdup(nick);
	k->timer = g_timeout_add(l->kept_ms, kept_expired, k);
	g_hash_table_insert(l->kept, GUINT_TO_POINTER(account), k);
}

bool logins_take_kept(struct logins *l, const char *bare_jid, guint32 *account, char **nick)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, l->kept);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct kept *k = value;
		if (k->expiring || strcmp(k->jid, bare_jid) != 0)
			continue;
		*account = k->account;
		*nick = g_steal_pointer(&k->nick);
		g_hash_table_iter_remove(&it); /* frees K */
		return true;
	}
	return false;
}

const char *logins_account_user(const struct logins *l, guint32 account)
{
	const struct kept *k = g_hash_table_lookup(l->kept, GUINT_TO_POINTER(account));
	return k != NULL ? k->jid : NULL;
}

const char *logins_kept_nick(const struct logins *l, const char *bare_jid)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, l->kept);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (strcmp(((struct kept *)value)->jid, bare_jid) == 0)
			return ((struct kept *)value)->nick;
	return NULL;
}

bool logins_owns(const struct logins *l, guint32 account)
{
	return g_hash_table_contains(l->kept, GUINT_TO_POINTER(account));
}

/* Only sign-on events reach a kept login (it is still a test login: the
 * worker holds its messages until KEEP); a disconnect ends it. Once it
 * expires (KEEP sent), its messages and notices too. DATA: the kept. */
static void on_kept_disconnected(void *data, const struct worker_msg_disconnected *m)
{
	struct kept *k = data;
	struct logins *l = k->logins;
	g_hash_table_remove(l->kept, GUINT_TO_POINTER(m->account)); /* frees K */
	legacy_logout(l->legacy, m->account);
}

static void on_kept_im(void *data, const struct worker_msg_im_received *m)
{
	struct kept *k = data;
	if (k->expiring)
		k->logins->callbacks->held_message(k->logins->data, k->jid, m);
}

static void on_kept_notice(void *data, const struct worker_msg_notice *m)
{
	struct kept *k = data;
	if (k->expiring)
		k->logins->callbacks->held_notice(k->logins->data, k->jid, m);
}

static const struct worker_msg_handlers kept_handlers = {
    .disconnected = on_kept_disconnected,
    .im_received = on_kept_im,
    .notice = on_kept_notice,
};

void logins_on_event(struct logins *l, guint32 account, const struct legacy_event *event)
{
	struct kept *k = g_hash_table_lookup(l->kept, GUINT_TO_POINTER(account));
	if (k != NULL)
		(void)legacy_event_dispatch(event, &kept_handlers, k);
}

void logins_on_lost(struct logins *l, guint32 account)
{
	g_hash_table_remove(l->kept, GUINT_TO_POINTER(account));
}
