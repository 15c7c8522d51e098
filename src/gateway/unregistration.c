/* unregistration: a user leaves the transport for good (the <remove/>
 * iq, the unregister command, an admin's delete-user): every message in
 * flight is answered first, then the contacts leave the roster, the
 * stored registration is deleted and the transport unsubscribes. */
#include "config.h"
#include "internal.h"

/* An unregistration once the session has answered every message. */
struct unregistering {
	const struct gateway_ctx *ctx;
	char *bare;
	void (*done)(void *data, bool ok, const char *text); /* told at the end */
	void *data;
	bool told;
};

static void tell(struct unregistering *u, bool ok, const char *text)
{
	if (!u->told)
		u->done(u->data, ok, text);
	u->told = true;
}

static void unregistering_free(void *data)
{
	struct unregistering *u = data;
	/* the session went before its messages did (shutdown) */
	tell(u, false, "the transport stopped before the unregistration ended");
	g_free(u->bare);
	g_free(u);
}

static void unregister_done(void *data)
{
	struct unregistering *u = data;
	const struct gateway_ctx *ctx = u->ctx;
	const char *bare = u->bare;
	if (sessions_get(ctx->sessions, bare, false) != NULL)
		sessions_remove(ctx->sessions, bare);
	g_autoptr(GError) err = NULL;
	if (!storage_user_delete(ctx->storage, bare, &err)) {
		g_warning("registration: cannot delete %s: %s", bare, err->message);
		tell(u, false, "the registration could not be deleted");
		return;
	}
	g_message("registration: %s unregistered", bare);
	tell(u, true, NULL);
	out_presence(ctx->router, NULL, bare, "unsubscribe");
	out_presence(ctx->router, NULL, bare, "unsubscribed");
	out_presence(ctx->router, address_transport_full(ctx->address), bare, "unavailable");
}

void registration_unregister(struct registration *reg, const char *bare,
                             void (*done)(void *data, bool ok, const char *text), void *data)
{
	const struct gateway_ctx *ctx = registration_ctx(reg);
	if (!registration_is_registered(ctx, bare, NULL)) {
		done(data, false, "you are not registered");
		return;
	}
	struct unregistering *u = g_new0(struct unregistering, 1);
	u->ctx = ctx;
	u->bare = g_strdup(bare);
	u->done = done;
	u->data = data;
	struct session *s = sessions_get(ctx->sessions, bare, true);
	if (s == NULL) {
		unregister_done(u);
		unregistering_free(u);
		return;
	}
	if (session_leaving(s)) {
		tell(u, false, "an unregistration is already under way");
		unregistering_free(u);
		return;
	}
	contacts_remove_all(s);
	/* every message answered before the unsubscribe (unregister_done) */
	session_unregister(s, "you unregistered from the transport", unregister_done, u,
	                   unregistering_free);
}
