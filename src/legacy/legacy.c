/* legacy: the typed legacy interface (include/ferry/legacy.h) over an
 * implementation's ops, its backpressure (which accounts may read from
 * their network), and the implementation over the ferry-worker pool
 * (include/ferry/workers.h). */
#include "config.h"
#include "ferry/legacy.h"

#include "ferry/workers.h"

#define STALL_CHECK_MS 1000

struct legacy {
	const struct legacy_ops *ops;
	void *impl;
	const struct legacy_callbacks *callbacks;   /* NULL: events go nowhere */
	void *data;                                 /* for CALLBACKS */
	void (*scope)(void *data, guint32 account); /* see legacy_set_event_scope() */
	void *scope_data;
	guint32 in_scope; /* the account whose event is being passed on, 0: none */

	/* backpressure */
	GHashTable *flows;   /* account id -> struct flow (owned), every live account */
	bool link_congested; /* everything waits */
	bool link_down;      /* ... because the link is down (else the server reads slowly) */
	guint stall_seconds; /* 0: no bound */
	guint stall_timer;   /* runs while an account is paused */
};

/* Why an account's reading is paused, and since when. */
struct flow {
	bool
	    connected; /* signed on: a login in progress is never paused (it must read to finish) */
	bool own;      /* its own stanzas fill the queue */
	bool paused;   /* PAUSE_READ sent */
	gint64 since_us;     /* monotonic time of the pause */
	bool stall_told;     /* the owner heard of this stall */
	GVariant *link_info; /* the last LINK_INFO payload (NULL: none), see legacy_link_info() */
};

static void flow_free(gpointer data)
{
	struct flow *f = data;
	if (f->link_info != NULL)
		g_variant_unref(f->link_info);
	g_free(f);
}

struct legacy_event {
	guint32 type;
	guint32 account;
	GVariant *payload; /* borrowed */
};

struct legacy *legacy_new(const struct legacy_ops *ops, void *impl)
{
	struct legacy *l = g_new0(struct legacy, 1);
	l->ops = ops;
	l->impl = impl;
	l->flows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, flow_free);
	return l;
}

void legacy_free(struct legacy *l)
{
	if (l == NULL)
		return;
	l->callbacks = NULL; /* nothing may reach the owner while stopping */
	l->scope = NULL;
	g_clear_handle_id(&l->stall_timer, g_source_remove);
	l->ops->free(l->impl);
	g_hash_table_unref(l->flows);
	g_free(l);
}

void legacy_set_callbacks(struct legacy *l, const struct legacy_callbacks *callbacks, void *data)
{
	l->callbacks = callbacks;
	l->data = data;
}

static void flow_update(struct legacy *l, guint32 account, struct flow *f);

guint32 legacy_login(struct legacy *l, const struct worker_msg_login *login, GError **error)
{
	guint32 id = l->ops->login(l->impl, login, error);
	if (id != 0)
		g_hash_table_replace(l->flows, GUINT_TO_POINTER(id), g_new0(struct flow, 1));
	return id;
}

bool legacy_send_frame(struct legacy *l, GBytes *frame)
{
	if (frame == NULL)
		return false;
	return l->ops->send(l->impl, frame);
}

void legacy_logout(struct legacy *l, guint32 account)
{
	g_hash_table_remove(l->flows, GUINT_TO_POINTER(account));
	l->ops->logout(l->impl, account);
}

bool legacy_logout_pending(struct legacy *l, guint32 account)
{
	return l->ops->logout_pending != NULL && l->ops->logout_pending(l->impl, account);
}

void legacy_hold(struct legacy *l, bool hold)
{
	l->ops->hold(l->impl, hold);
}

void legacy_sync(struct legacy *l, guint32 account)
{
	if (l->ops->sync != NULL)
		l->ops->sync(l->impl, account);
}

/* Events can nest (a logout inside a handler reads the worker's last
 * acknowledgements): the outer account is restored after an inner one. */
static guint32 enter_scope(struct legacy *l, guint32 account)
{
	guint32 outer = l->in_scope;
	l->in_scope = account;
	if (l->scope != NULL)
		l->scope(l->scope_data, account);
	return outer;
}

void legacy_emit(struct legacy *l, guint32 type, guint32 account, GVariant *payload)
{
	if (type == WORKER_LINK_INFO) {
		/* kept for whoever owns the account next (a registration's
		 * check login adopted by the session) */
		struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
		if (f != NULL) {
			if (f->link_info != NULL)
				g_variant_unref(f->link_info);
			f->link_info = g_variant_ref(payload);
		}
	}
	if (l->callbacks == NULL || l->callbacks->event == NULL)
		return;
	const struct legacy_event event = {type, account, payload};
	guint32 outer = enter_scope(l, account);
	l->callbacks->event(l->data, account, &event);
	(void)enter_scope(l, outer);
	if (type == WORKER_CONNECTED) {
		struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
		if (f != NULL && !f->connected) {
			f->connected = true;
			flow_update(l, account, f);
		}
	}
}

void legacy_emit_lost(struct legacy *l, guint32 account)
{
	g_hash_table_remove(l->flows, GUINT_TO_POINTER(account));
	if (l->callbacks == NULL || l->callbacks->lost == NULL)
		return;
	guint32 outer = enter_scope(l, account);
	l->callbacks->lost(l->data, account);
	(void)enter_scope(l, outer);
}

bool legacy_link_info(struct legacy *l, guint32 account, struct worker_msg_link_info *info)
{
	struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
	return f != NULL && f->link_info != NULL &&
	       worker_msg_link_info_read(f->link_info, account, info);
}

void legacy_emit_crash_loop(struct legacy *l, guint deaths, guint seconds)
{
	if (l->callbacks != NULL && l->callbacks->crash_loop != NULL)
		l->callbacks->crash_loop(l->data, deaths, seconds);
}

GArray *legacy_stats(struct legacy *l, guint *deaths)
{
	*deaths = 0;
	if (l->ops->stats == NULL)
		return g_array_new(FALSE, TRUE, sizeof(struct legacy_process));
	return l->ops->stats(l->impl, deaths);
}

void legacy_set_event_scope(struct legacy *l, void (*scope)(void *data, guint32 account),
                            void *data)
{
	l->scope = scope;
	l->scope_data = data;
}

/* ---- backpressure ----------------------------------------------------------------- */

static gboolean stall_check(gpointer data);

/* Sends PAUSE_READ when F's account must (or need no longer) wait. */
static void flow_update(struct legacy *l, guint32 account, struct flow *f)
{
	bool paused = f->connected && (f->own || l->link_congested);
	if (paused == f->paused)
		return;
	f->paused = paused;
	f->since_us = g_get_monotonic_time();
	f->stall_told = false;
	(void)LEGACY_SEND(l, pause_read, .account = account, .paused = paused);
	if (paused && l->stall_timer == 0 && l->stall_seconds > 0)
		l->stall_timer = g_timeout_add(STALL_CHECK_MS, stall_check, l);
}

void legacy_set_congested(struct legacy *l, guint32 account, bool congested)
{
	if (account == 0) {
		if (l->link_congested == congested)
			return;
		l->link_congested = congested;
		g_info("legacy: %s reading from %u account(s)", congested ? "stopped" : "resumed",
		       g_hash_table_size(l->flows));
		/* A PAUSE_READ can find its worker dead (EPIPE): the pool
		 * reports its accounts lost at once, which removes their flows.
		 * So the ids are collected first and each looked up again. */
		g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint32));
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, l->flows);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			guint32 id = GPOINTER_TO_UINT(key);
			g_array_append_val(ids, id);
		}
		for (guint i = 0; i < ids->len; i++) {
			guint32 id = g_array_index(ids, guint32, i);
			struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(id));
			if (f != NULL)
				flow_update(l, id, f);
		}
		return;
	}
	struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
	if (f == NULL || f->own == congested)
		return;
	f->own = congested;
	g_info("legacy: account %u: %s", account,
	       congested ? "more of its events wait for the XMPP server than its bound: reading "
	                   "stops"
	                 : "its events went out: reading goes on");
	flow_update(l, account, f);
}

void legacy_set_link_down(struct legacy *l, bool down)
{
	l->link_down = down;
}

void legacy_new_owner(struct legacy *l, guint32 account)
{
	struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
	if (f == NULL)
		return;
	f->since_us = g_get_monotonic_time();
	f->stall_told = false;
}

bool legacy_paused(const struct legacy *l, guint32 account)
{
	const struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
	return f != NULL && f->paused;
}

void legacy_set_stall_limit(struct legacy *l, guint seconds)
{
	l->stall_seconds = seconds;
}

/* Tells the owner of each account paused longer than the stall bound, once
 * per pause. The owner logs it out (legacy_logout), which ends its flow:
 * collected first, since the callback changes the table. */
static gboolean stall_check(gpointer data)
{
	struct legacy *l = data;
	gint64 now = g_get_monotonic_time();
	gint64 bound = (gint64)l->stall_seconds * G_USEC_PER_SEC;
	g_autoptr(GArray) stalled = g_array_new(FALSE, FALSE, sizeof(guint32));
	bool any = false;
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, l->flows);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct flow *f = value;
		if (!f->paused)
			continue;
		any = true;
		if (!f->stall_told && now - f->since_us >= bound) {
			f->stall_told = true;
			guint32 account = GPOINTER_TO_UINT(key);
			g_array_append_val(stalled, account);
		}
	}
	for (guint i = 0; i < stalled->len; i++) {
		guint32 account = g_array_index(stalled, guint32, i);
		struct flow *f = g_hash_table_lookup(l->flows, GUINT_TO_POINTER(account));
		if (f == NULL)
			continue;
		/* the reason as it stands now: a slow link may have gone down */
		enum legacy_stall why = f->own         ? LEGACY_STALL_OWN
		                        : l->link_down ? LEGACY_STALL_LINK_DOWN
		                                       : LEGACY_STALL_QUEUE;
		static const char *const whys[] = {
		    [LEGACY_STALL_OWN] = "its events wait for the XMPP server",
		    [LEGACY_STALL_QUEUE] = "the XMPP server reads the link slowly",
		    [LEGACY_STALL_LINK_DOWN] = "the XMPP link is down",
		};
		g_warning("legacy: account %u: reading stopped for %u s (%s): its network may drop "
		          "it",
		          account, l->stall_seconds, whys[why]);
		if (l->callbacks != NULL && l->callbacks->stalled != NULL)
			l->callbacks->stalled(l->data, account, why);
	}
	if (!any)
		l->stall_timer = 0;
	return any ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

bool legacy_event_dispatch(const struct legacy_event *event,
                           const struct worker_msg_handlers *handlers, void *data)
{
	return worker_msg_dispatch(handlers, data, event->type, event->account, event->payload);
}

const char *legacy_event_name(const struct legacy_event *event)
{
	return worker_msg_name(event->type);
}

guint32 legacy_event_account(const struct legacy_event *event)
{
	return event->account;
}

/* ---- over the worker pool ------------------------------------------------------- */

/* The pool reports to its legacy object, which must exist first: the pool
 * is created with this holder and told its legacy right after. */
struct pool_impl {
	struct workers *workers;
	struct legacy *legacy;
};

static void on_pool_event(void *data, guint32 account, guint32 type, GVariant *payload)
{
	struct pool_impl *p = data;
	legacy_emit(p->legacy, type, account, payload);
}

static void on_pool_lost(void *data, guint32 account)
{
	struct pool_impl *p = data;
	legacy_emit_lost(p->legacy, account);
}

static void on_pool_crash_loop(void *data, guint deaths, guint seconds)
{
	struct pool_impl *p = data;
	legacy_emit_crash_loop(p->legacy, deaths, seconds);
}

static const struct workers_callbacks pool_callbacks = {
    .event = on_pool_event,
    .account_lost = on_pool_lost,
    .crash_loop = on_pool_crash_loop,
};

static guint32 pool_login(void *impl, const struct worker_msg_login *login, GError **error)
{
	struct pool_impl *p = impl;
	return workers_login(p->workers, login, error);
}

static bool pool_send(void *impl, GBytes *frame)
{
	struct pool_impl *p = impl;
	return workers_send(p->workers, frame);
}

static void pool_logout(void *impl, guint32 account)
{
	struct pool_impl *p = impl;
	workers_logout(p->workers, account);
}

static bool pool_logout_pending(void *impl, guint32 account)
{
	struct pool_impl *p = impl;
	return workers_leaving(p->workers, account);
}

static void pool_hold(void *impl, bool hold)
{
	struct pool_impl *p = impl;
	workers_hold(p->workers, hold);
}

static void pool_free(void *impl)
{
	struct pool_impl *p = impl;
	workers_free(p->workers);
	g_free(p);
}

static void pool_sync(void *impl, guint32 account)
{
	struct pool_impl *p = impl;
	workers_sync(p->workers, account);
}

static GArray *pool_stats(void *impl, guint *deaths)
{
	struct pool_impl *p = impl;
	g_autoptr(GArray) procs = workers_stats(p->workers, deaths);
	GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(struct legacy_process), procs->len);
	for (guint i = 0; i < procs->len; i++) {
		const struct workers_process *w = &g_array_index(procs, struct workers_process, i);
		struct legacy_process lp = {
		    .pid = w->pid, .accounts = w->accounts, .rss_kb = w->rss_kb};
		g_array_append_val(out, lp);
	}
	return out;
}

static const struct legacy_ops pool_ops = {
    .login = pool_login,
    .send = pool_send,
    .logout = pool_logout,
    .logout_pending = pool_logout_pending,
    .hold = pool_hold,
    .sync = pool_sync,
    .stats = pool_stats,
    .free = pool_free,
};

struct legacy *legacy_new_workers(const struct workers_options *options)
{
	struct pool_impl *p = g_new0(struct pool_impl, 1);
	struct legacy *l = legacy_new(&pool_ops, p);
	p->legacy = l;
	p->workers = workers_new(options, &pool_callbacks, p);
	return l;
}
