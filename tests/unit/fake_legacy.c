/* fake_legacy: a scripted legacy side for unit tests. See fake_legacy.h. */
#include "config.h"
#include "fake_legacy.h"

#include <gio/gio.h>

struct fake_legacy {
	struct legacy *legacy;
	GQueue commands;     /* struct fake_command *, oldest first */
	GHashTable *live;    /* account ids logged in */
	GHashTable *last_im; /* account id -> highest SEND_IM seq sent */
	guint32 next_account;
	guint32 last_account;
	guint fail_logins;
	bool ack_on_logout;
	bool die_on_logout;
	guint32 lose_on_send; /* see fake_legacy_lose_on_send() */
	bool linger;          /* see fake_legacy_linger_on_logout() */
	GHashTable *leaving;  /* account ids logged out, their DISCONNECTED yet to come */
};

void fake_command_free(struct fake_command *c)
{
	if (c == NULL)
		return;
	g_variant_unref(c->payload);
	g_free(c);
}

/* Decodes FRAME (length prefix included) the way the worker does. */
static struct fake_command *decode(GBytes *frame)
{
	struct worker_reader *r = worker_reader_new();
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(frame, &len);
	worker_reader_feed(r, p, len);
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) body = worker_reader_next(r, &err);
	worker_reader_free(r);
	g_assert_no_error(err);
	g_assert_nonnull(body);
	struct fake_command *c = g_new0(struct fake_command, 1);
	g_assert_true(worker_frame_decode(body, &c->type, &c->account, &c->payload, &err));
	g_assert_no_error(err);
	return c;
}

static void record(struct fake_legacy *f, GBytes *frame)
{
	g_queue_push_tail(&f->commands, decode(frame));
}

static guint32 fake_login(void *impl, const struct worker_msg_login *login, GError **error)
{
	struct fake_legacy *f = impl;
	if (f->fail_logins > 0) {
		f->fail_logins--;
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no worker (scripted)");
		return 0;
	}
	struct worker_msg_login m = *login;
	m.account = ++f->next_account;
	g_autoptr(GBytes) frame = worker_msg_login_frame(&m);
	record(f, frame);
	g_hash_table_add(f->live, GUINT_TO_POINTER(m.account));
	f->last_account = m.account;
	return m.account;
}

static bool fake_send(void *impl, GBytes *frame)
{
	struct fake_legacy *f = impl;
	guint32 account = worker_frame_account(frame);
	bool live = g_hash_table_contains(f->live, GUINT_TO_POINTER(account));
	if (live && account == f->lose_on_send) {
		/* as the pool when the write fails (EPIPE): the worker's
		 * accounts are reported lost inside the send */
		f->lose_on_send = 0;
		g_bytes_unref(frame);
		fake_legacy_lose(f, account);
		return false;
	}
	if (live) {
		struct fake_command *c = decode(frame);
		if (c->type == WORKER_SEND_IM) {
			struct worker_msg_send_im m;
			g_assert_true(worker_msg_send_im_read(c->payload, account, &m));
			g_hash_table_insert(f->last_im, GUINT_TO_POINTER(account),
			                    GUINT_TO_POINTER(m.seq));
			worker_msg_send_im_clear(&m);
		}
		g_queue_push_tail(&f->commands, c);
	}
	g_bytes_unref(frame);
	return live;
}

/* The one worker dies: every account is forgotten, then reported lost. */
static void die(struct fake_legacy *f)
{
	GList *all = g_hash_table_get_keys(f->live);
	g_hash_table_remove_all(f->live);
	g_hash_table_remove_all(f->last_im);
	for (GList *l = all; l != NULL; l = l->next)
		legacy_emit_lost(f->legacy, GPOINTER_TO_UINT(l->data));
	g_list_free(all);
}

static void fake_logout(void *impl, guint32 account)
{
	struct fake_legacy *f = impl;
	if (!g_hash_table_contains(f->live, GUINT_TO_POINTER(account)))
		return;
	if (f->die_on_logout) {
		/* as the pool when reading the worker's last acknowledgements
		 * fails: it dies before the logout is sent */
		f->die_on_logout = false;
		die(f);
		return;
	}
	gpointer seq = g_hash_table_lookup(f->last_im, GUINT_TO_POINTER(account));
	if (f->ack_on_logout && seq != NULL)
		FAKE_EMIT(f, ims_sent, .account = account, .through = GPOINTER_TO_UINT(seq));
	g_hash_table_remove(f->live, GUINT_TO_POINTER(account));
	g_hash_table_remove(f->last_im, GUINT_TO_POINTER(account));
	if (f->linger)
		g_hash_table_add(f->leaving, GUINT_TO_POINTER(account));
	g_autoptr(GBytes) frame = WORKER_FRAME(logout, .account = account);
	record(f, frame);
}

static bool fake_logout_pending(void *impl, guint32 account)
{
	struct fake_legacy *f = impl;
	return g_hash_table_contains(f->leaving, GUINT_TO_POINTER(account));
}

static void fake_hold(void *impl, bool hold)
{
}

static void fake_free(void *impl)
{
	struct fake_legacy *f = impl;
	g_queue_clear_full(&f->commands, (GDestroyNotify)fake_command_free);
	g_hash_table_unref(f->live);
	g_hash_table_unref(f->last_im);
	g_hash_table_unref(f->leaving);
	g_free(f);
}

static const struct legacy_ops fake_ops = {
    .login = fake_login,
    .send = fake_send,
    .logout = fake_logout,
    .logout_pending = fake_logout_pending,
    .hold = fake_hold,
    .free = fake_free,
};

struct legacy *fake_legacy_new(struct fake_legacy **fake)
{
	struct fake_legacy *f = g_new0(struct fake_legacy, 1);
	g_queue_init(&f->commands);
	f->live = g_hash_table_new(g_direct_hash, g_direct_equal);
	f->last_im = g_hash_table_new(g_direct_hash, g_direct_equal);
	f->leaving = g_hash_table_new(g_direct_hash, g_direct_equal);
	f->legacy = legacy_new(&fake_ops, f);
	*fake = f;
	return f->legacy;
}

guint fake_legacy_count(const struct fake_legacy *f)
{
	return f->commands.length;
}

struct fake_command *fake_legacy_take(struct fake_legacy *f)
{
	return g_queue_pop_head(&f->commands);
}

struct fake_command *fake_legacy_take_type(struct fake_legacy *f, guint32 type)
{
	for (GList *l = f->commands.head; l != NULL; l = l->next) {
		struct fake_command *c = l->data;
		if (c->type == type) {
			g_queue_delete_link(&f->commands, l);
			return c;
		}
	}
	return NULL;
}

guint fake_legacy_count_type(const struct fake_legacy *f, guint32 type)
{
	guint n = 0;
	for (GList *l = f->commands.head; l != NULL; l = l->next)
		if (((struct fake_command *)l->data)->type == type)
			n++;
	return n;
}

void fake_legacy_clear(struct fake_legacy *f)
{
	g_queue_clear_full(&f->commands, (GDestroyNotify)fake_command_free);
	g_queue_init(&f->commands);
}

void fake_legacy_fail_logins(struct fake_legacy *f, guint n)
{
	f->fail_logins = n;
}

bool fake_legacy_has_account(const struct fake_legacy *f, guint32 account)
{
	return g_hash_table_contains(f->live, GUINT_TO_POINTER(account));
}

guint32 fake_legacy_last_account(const struct fake_legacy *f)
{
	return f->last_account;
}

void fake_legacy_emit(struct fake_legacy *f, GBytes *frame)
{
	struct fake_command *c = decode(frame);
	g_bytes_unref(frame);
	/* As the pool: events for an account that is not logged in are
	 * dropped (late events after a logout). */
	if (g_hash_table_contains(f->live, GUINT_TO_POINTER(c->account)))
		legacy_emit(f->legacy, c->type, c->account, c->payload);
	else if (g_hash_table_contains(f->leaving, GUINT_TO_POINTER(c->account))) {
		/* a lingering logout: its DISCONNECTED is the last word */
		if (c->type == WORKER_DISCONNECTED)
			g_hash_table_remove(f->leaving, GUINT_TO_POINTER(c->account));
		legacy_emit(f->legacy, c->type, c->account, c->payload);
	} else
		g_test_message("fake_legacy: %s for account %u dropped: not logged in",
		               worker_msg_name(c->type), c->account);
	fake_command_free(c);
}

void fake_legacy_lose(struct fake_legacy *f, guint32 account)
{
	if (!g_hash_table_remove(f->live, GUINT_TO_POINTER(account)))
		return; /* the pool reports only the accounts it hosts */
	g_hash_table_remove(f->last_im, GUINT_TO_POINTER(account));
	legacy_emit_lost(f->legacy, account);
}

void fake_legacy_die_on_logout(struct fake_legacy *f)
{
	f->die_on_logout = true;
}

void fake_legacy_ack_on_logout(struct fake_legacy *f, bool on)
{
	f->ack_on_logout = on;
}

void fake_legacy_lose_on_send(struct fake_legacy *f, guint32 account)
{
	f->lose_on_send = account;
}

void fake_legacy_linger_on_logout(struct fake_legacy *f, bool on)
{
	f->linger = on;
}
