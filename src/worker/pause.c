/* pause: PAUSE_READ, ferry's backpressure on the legacy side. While ferry
 * cannot pass on what an account's connection would read (the XMPP server
 * is slow or the component link is down), the worker stops polling that
 * connection for input; the network's own flow control (TCP) then holds
 * the rest on the server's side. Sending, timers and other accounts go on.
 *
 * Which account an input belongs to. libpurple's input_add() says nothing
 * of it, so loop.c asks pause_owner() at every input_add, in this order:
 *  1. the callback's data is a live PurpleConnection: how prpl-irc,
 *     prpl-jabber, prpl-simple and most protocols add their socket's read
 *     input (purple_input_add(fd, READ, cb, gc));
 *  2. the input is sslconn.c's reader (its function, learned once by adding
 *     an input on a pipe through purple_ssl_input_add(), is the one behind
 *     every purple_ssl_input_add()): its data is then the
 *     PurpleSslConnection, whose recv_cb_data is the protocol's own data,
 *     again a live PurpleConnection for prpl-irc and prpl-jabber over TLS;
 *  3. otherwise the account whose input or timer callback is running (the
 *     context, set by loop.c around every callback it dispatches and
 *     inherited by what that callback adds).
 * Ownership is computed again for every input when a pause changes (a
 * PurpleConnection given as data is checked against the live ones then).
 * Only read inputs are paused; a hang-up or error on a paused socket is
 * still delivered, so a dying connection is noticed. What a protocol reads
 * without an input of its own (none of libpurple's do) cannot be paused.
 */
#include "config.h"
#include "worker.h"

#include <unistd.h>

static GHashTable *paused;           /* PurpleAccount * set (pointers, never dereferenced) */
static PurpleAccount *context;       /* the account whose callback runs now */
static PurpleInputFunction ssl_read; /* sslconn.c's reader, see 2. above */
static bool learned;                 /* ssl_read was looked for */
static bool learning;
static int signals_handle;

static void noop_ssl_input(gpointer data, PurpleSslConnection *gsc, PurpleInputCondition cond)
{
	(void)data;
	(void)gsc;
	(void)cond;
}

/* Adds an input through purple_ssl_input_add() on a pipe and keeps the
 * function it was given: sslconn.c's reader. Needs the core up (the SSL
 * plugin is loaded on demand). */
static void learn_ssl_reader(void)
{
	learned = true;
	if (!purple_ssl_is_supported())
		return;
	int fds[2];
	if (pipe(fds) != 0)
		return;
	PurpleSslConnection fake = {.fd = fds[0]};
	learning = true;
	purple_ssl_input_add(&fake, noop_ssl_input, NULL);
	learning = false;
	if (fake.inpa != 0) {
		ssl_read = loop_input_function(fake.inpa);
		purple_input_remove(fake.inpa);
	}
	close(fds[0]);
	close(fds[1]);
}

static PurpleAccount *live_connection_account(gpointer data)
{
	if (data == NULL || !PURPLE_CONNECTION_IS_VALID(data))
		return NULL;
	return purple_connection_get_account(data);
}

PurpleAccount *pause_owner(PurpleInputFunction function, gpointer data, PurpleAccount *fallback)
{
	if (learning)
		return NULL;
	PurpleAccount *pa = live_connection_account(data);
	if (pa != NULL)
		return pa;
	if (ssl_read != NULL && function == ssl_read && data != NULL) {
		pa = live_connection_account(((PurpleSslConnection *)data)->recv_cb_data);
		if (pa != NULL)
			return pa;
	}
	return fallback;
}

PurpleAccount *pause_context(void)
{
	return context;
}

PurpleAccount *pause_enter(PurpleAccount *owner)
{
	PurpleAccount *prev = context;
	context = owner;
	return prev;
}

void pause_leave(PurpleAccount *prev)
{
	context = prev;
}

bool pause_is_paused(PurpleAccount *pa)
{
	return pa != NULL && paused != NULL && g_hash_table_contains(paused, pa);
}

/* A connection going away takes its pause with it: the account's pointer
 * may be reused by the next one. */
static void on_signing_off(PurpleConnection *gc, gpointer data)
{
	(void)data;
	g_hash_table_remove(paused, purple_connection_get_account(gc));
}

void pause_on_pause_read(void *data, const struct worker_msg_pause_read *m)
{
	PurpleAccount *pa = account_purple(data);
	if (paused == NULL) {
		paused = g_hash_table_new(g_direct_hash, g_direct_equal);
		purple_signal_connect(purple_connections_get_handle(), "signing-off",
		                      &signals_handle, PURPLE_CALLBACK(on_signing_off), NULL);
	}
	if (!learned)
		learn_ssl_reader();
	if (m->paused == pause_is_paused(pa))
		return;
	if (m->paused)
		g_hash_table_add(paused, pa);
	else
		g_hash_table_remove(paused, pa);
	guint inputs = loop_refresh_owner(pa);
	if (inputs == 0 && m->paused && account_is_connected(data))
		g_warning("account %u: no input of its connection found: its reading cannot be "
		          "paused (ferry holds what it reads)",
		          m->account);
	else
		g_info("account %u: %s reading its connection (%u input(s))", m->account,
		       m->paused ? "stopped" : "resumed", inputs);
}
