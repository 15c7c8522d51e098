/* legacy: the typed legacy interface (include/ferry/legacy.h) over an
 * implementation's ops, and the implementation over the ferry-worker pool
 * (include/ferry/workers.h). */
#include "config.h"
#include "ferry/legacy.h"

#include "ferry/workers.h"

struct legacy {
	const struct legacy_ops *ops;
	void *impl;
	const struct legacy_callbacks *callbacks; /* NULL: events go nowhere */
	void *data;                               /* for CALLBACKS */
};

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
	return l;
}

void legacy_free(struct legacy *l)
{
	if (l == NULL)
		return;
	l->callbacks = NULL; /* nothing may reach the owner while stopping */
	l->ops->free(l->impl);
	g_free(l);
}

void legacy_set_callbacks(struct legacy *l, const struct legacy_callbacks *callbacks, void *data)
{
	l->callbacks = callbacks;
	l->data = data;
}

guint32 legacy_login(struct legacy *l, const struct worker_msg_login *login, GError **error)
{
	return l->ops->login(l->impl, login, error);
}

bool legacy_send_frame(struct legacy *l, GBytes *frame)
{
	if (frame == NULL)
		return false;
	return l->ops->send(l->impl, frame);
}

void legacy_logout(struct legacy *l, guint32 account)
{
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

void legacy_emit(struct legacy *l, guint32 type, guint32 account, GVariant *payload)
{
	if (l->callbacks == NULL || l->callbacks->event == NULL)
		return;
	const struct legacy_event event = {type, account, payload};
	l->callbacks->event(l->data, account, &event);
}

void legacy_emit_lost(struct legacy *l, guint32 account)
{
	if (l->callbacks != NULL && l->callbacks->lost != NULL)
		l->callbacks->lost(l->data, account);
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

static const struct workers_callbacks pool_callbacks = {
    .event = on_pool_event,
    .account_lost = on_pool_lost,
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

static const struct legacy_ops pool_ops = {
    .login = pool_login,
    .send = pool_send,
    .logout = pool_logout,
    .logout_pending = pool_logout_pending,
    .hold = pool_hold,
    .sync = pool_sync,
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
