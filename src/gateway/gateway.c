/* gateway: wires registration, sessions, contacts, messages and the roster
 * to the router and the workers; checks who may use the transport. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ferry/jid.h"

/* ---- helpers shared by the gateway's files ---------------------------------- */

void gateway_send(struct gateway *gw, struct stanza *stanza)
{
	router_send(gw->router, stanza);
}

struct stanza *gateway_presence(struct gateway *gw, const char *from, const char *to,
                                const char *type)
{
	struct stanza *p = stanza_new("presence");
	stanza_set_attr(p, "from", from != NULL ? from : gw->jid);
	stanza_set_attr(p, "to", to);
	if (type != NULL)
		stanza_set_attr(p, "type", type);
	return p;
}

void gateway_tell_user(struct gateway *gw, const char *bare_jid, const char *text)
{
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", gw->jid);
	stanza_set_attr(m, "to", bare_jid);
	stanza_set_attr(m, "type", "chat");
	stanza_add_text_child(m, "body", text);
	gateway_send(gw, m);
}

/* ---- access control ---------------------------------------------------------------- */

/* The sender as a parsed JID when its domain may use the transport; else
 * answers STANZA with an error (never an error to an error) and returns
 * NULL. */
static struct jid *allowed_sender(struct gateway *gw, const struct stanza *stanza)
{
	g_autoptr(GError) err = NULL;
	const char *from = stanza_get_from(stanza);
	struct jid *j = from != NULL ? jid_parse(from, &err) : NULL;
	if (j == NULL) {
		g_debug("gateway: ignoring <%s> with an invalid sender", stanza_name(stanza));
		return NULL;
	}
	if (jid_local(j) == NULL || !settings_domain_allowed(gw->settings, jid_domain(j))) {
		g_info("gateway: refusing <%s> from %s: domain not allowed", stanza_name(stanza),
		       jid_bare(j));
		g_autofree char *text = g_strdup_printf("%s serves users of %s only", gw->jid,
		                                        gw->settings->allowed_domains[0]);
		router_send_error(gw->router, stanza, "forbidden", text);
		jid_free(j);
		return NULL;
	}
	return j;
}

/* ---- presence ----------------------------------------------------------------------- */

static void transport_presence(struct gateway *gw, const struct stanza *p, struct jid *from)
{
	const char *type = stanza_get_type(p);
	const char *bare = jid_bare(from);
	const char *resource = jid_resource(from) != NULL ? jid_resource(from) : "";
	struct session *s = session_get(gw, bare, true);

	if (type == NULL || strcmp(type, "unavailable") == 0) {
		if (s != NULL)
			session_on_user_presence(s, resource, type == NULL, p);
		else if (type == NULL)
			g_debug("gateway: available presence from unregistered %s", bare);
	} else if (strcmp(type, "probe") == 0) {
		if (s != NULL)
			session_send_transport_presence(s, stanza_get_from(p));
		else
			gateway_send(gw, gateway_presence(gw, NULL, bare, "unavailable"));
	} else if (strcmp(type, "subscribe") == 0) {
		/* Approve registered users only (XEP-0100 §4.1.1). */
		gateway_send(gw, gateway_presence(gw, NULL, bare,
		                                  s != NULL ? "subscribed" : "unsubscribed"));
		if (s != NULL)
			session_send_transport_presence(s, NULL);
	} else if (strcmp(type, "unsubscribe") == 0 || strcmp(type, "unsubscribed") == 0) {
		/* The user took the transport out of the roster: stop the session
		 * (the registration stays until <remove/>). */
		if (s != NULL && s->state != SESSION_OFFLINE)
			session_logout(s, "the transport was removed from your contact list");
	} else if (strcmp(type, "error") == 0) {
		if (s != NULL)
			session_on_user_presence(s, resource, false, p);
	}
}

static enum router_result on_presence(struct router *r, const struct stanza *p, void *data)
{
	struct gateway *gw = data;
	const char *to = stanza_get_to(p);
	const char *type = stanza_get_type(p);
	if (to == NULL)
		return ROUTER_HANDLED;
	g_autoptr(GError) err = NULL;
	struct jid *target = jid_parse(to, &err);
	if (target == NULL)
		return ROUTER_HANDLED;
	struct jid *from = NULL;
	if (g_strcmp0(type, "error") == 0) {
		const char *f = stanza_get_from(p);
		from = f != NULL ? jid_parse(f, NULL) : NULL;
		if (from != NULL && !settings_domain_allowed(gw->settings, jid_domain(from)))
			g_clear_pointer(&from, jid_free);
	} else {
		from = allowed_sender(gw, p);
	}
	if (from == NULL) {
		jid_free(target);
		return ROUTER_HANDLED;
	}
	if (jid_local(target) == NULL) {
		transport_presence(gw, p, from);
	} else {
		struct session *s = session_get(gw, jid_bare(from), true);
		if (s == NULL) {
			if (g_strcmp0(type, "subscribe") == 0)
				router_send_error(r, p, "registration-required",
				                  "register with the transport first");
		} else {
			struct contact *c = contact_by_local(s, jid_local(target));
			if (c != NULL)
				contacts_on_user_presence(s, c, p);
		}
	}
	jid_free(from);
	jid_free(target);
	return ROUTER_HANDLED;
}

/* ---- messages ------------------------------------------------------------------------ */

static enum router_result on_message(struct router *r, const struct stanza *m, void *data)
{
	struct gateway *gw = data;
	const char *type = stanza_get_type(m);
	const char *to = stanza_get_to(m);
	if (g_strcmp0(type, "error") == 0 || to == NULL)
		return ROUTER_HANDLED;
	struct jid *target = jid_parse(to, NULL);
	if (target == NULL)
		return ROUTER_HANDLED;
	if (jid_local(target) == NULL) {
		/* To the transport itself: privilege grants from the server; chat
		 * from users is not a command interface (yet) and is ignored. */
		jid_free(target);
		(void)roster_on_privilege(gw->roster, m);
		return ROUTER_HANDLED;
	}
	struct jid *from = allowed_sender(gw, m);
	if (from == NULL) {
		jid_free(target);
		return ROUTER_HANDLED;
	}
	struct session *s = session_get(gw, jid_bare(from), true);
	if (s == NULL) {
		router_send_error(r, m, "registration-required",
		                  "register with the transport before sending messages");
	} else {
		struct contact *c = contact_by_local(s, jid_local(target));
		if (c == NULL)
			router_send_error(r, m, "jid-malformed",
			                  "this address is not a valid legacy name");
		else
			messages_from_user(s, c, m);
	}
	jid_free(from);
	jid_free(target);
	return ROUTER_HANDLED;
}

/* ---- worker events ------------------------------------------------------------------ */

static void on_worker_event(void *data, guint32 account, guint32 type, GVariant *payload)
{
	struct gateway *gw = data;
	if (registration_owns(gw, account)) {
		registration_on_event(gw, account, type, payload);
		return;
	}
	struct session *s = g_hash_table_lookup(gw->accounts, GUINT_TO_POINTER(account));
	if (s != NULL)
		session_on_event(s, type, payload);
}

static void on_account_lost(void *data, guint32 account)
{
	struct gateway *gw = data;
	if (registration_owns(gw, account)) {
		registration_on_lost(gw, account);
		return;
	}
	struct session *s = g_hash_table_lookup(gw->accounts, GUINT_TO_POINTER(account));
	if (s != NULL)
		session_on_lost(s);
}

static const struct workers_callbacks worker_callbacks = {
    .event = on_worker_event,
    .account_lost = on_account_lost,
};

/* ---- life cycle --------------------------------------------------------------------- */

char *gateway_default_worker_program(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self != NULL) {
		g_autofree char *dir = g_path_get_dirname(self);
		char *beside = g_build_filename(dir, "ferry-worker", NULL);
		if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
			return beside;
		g_free(beside);
	}
	return g_build_filename(FERRY_LIBEXECDIR, "ferry-worker", NULL);
}

/* Creates the directory holding PATH (mode 0700) when missing. */
static bool ensure_parent(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot create %s: %s", dir, g_strerror(errno));
		return false;
	}
	return true;
}

/* Opens what the gateway needs: key, database, the protocol's form, workers. */
static bool gateway_open(struct gateway *gw, const char *program, GError **error)
{
	const struct settings *st = gw->settings;
	if (!ensure_parent(st->key_file, error) || !ensure_parent(st->database, error))
		return false;
	gw->secrets = secrets_open(st->key_file, error);
	if (gw->secrets == NULL)
		return false;
	gw->storage = storage_open_sqlite(st->database, gw->secrets, error);
	if (gw->storage == NULL)
		return false;
	g_autoptr(GVariant) describe = workers_describe(program, st->legacy_protocol, error);
	if (describe == NULL)
		return false;
	gw->form = regform_new(describe, st->legacy_overrides, st->legacy_locked, error);
	if (gw->form == NULL)
		return false;
	const struct workers_options wopt = {
	    .program = program,
	    .users_per_worker = st->users_per_worker,
	    .min_workers = st->min_workers,
	    .ca_file = st->legacy_ca_file,
	};
	gw->workers = workers_new(&wopt, &worker_callbacks, gw);
	gw->roster = roster_new(gw);
	return true;
}

struct gateway *gateway_new(const struct settings *settings, struct router *router,
                            struct disco *disco, GError **error)
{
	struct gateway *gw = g_new0(struct gateway, 1);
	gw->settings = settings;
	gw->router = router;
	gw->disco = disco;
	gw->jid = settings->component_jid;
	gw->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
	gw->accounts = g_hash_table_new(g_direct_hash, g_direct_equal);
	gw->pending_regs = g_hash_table_new(g_direct_hash, g_direct_equal);
	gw->kept_logins = g_hash_table_new(g_direct_hash, g_direct_equal);
	gw->logins = pacer_new(settings->login_rate, settings->login_burst, g_get_monotonic_time());
	g_autofree char *program = settings->worker_program != NULL
	                               ? g_strdup(settings->worker_program)
	                               : gateway_default_worker_program();
	if (!gateway_open(gw, program, error)) {
		gateway_free(gw);
		return NULL;
	}
	registration_register(gw);
	router_add_presence_handler(router, on_presence, gw);
	router_add_message_handler(router, on_message, gw);
	g_message("gateway: %s (%s) through %s, database %s", regform_protocol_name(gw->form),
	          regform_protocol(gw->form), program, settings->database);
	return gw;
}

void gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	if (gw->pending_regs != NULL)
		registration_free_all(gw);
	/* Sessions first: they log out through the workers. */
	g_clear_pointer(&gw->sessions, g_hash_table_unref);
	g_clear_handle_id(&gw->login_timer, g_source_remove);
	g_clear_pointer(&gw->logins, pacer_free);
	g_clear_pointer(&gw->workers, workers_free);
	g_clear_pointer(&gw->roster, roster_free);
	g_clear_pointer(&gw->accounts, g_hash_table_unref);
	g_clear_pointer(&gw->pending_regs, g_hash_table_unref);
	g_clear_pointer(&gw->kept_logins, g_hash_table_unref);
	g_clear_pointer(&gw->form, regform_free);
	g_clear_pointer(&gw->storage, storage_free);
	g_clear_pointer(&gw->secrets, secrets_free);
	g_free(gw);
}

void gateway_hold_writes(struct gateway *gw, bool hold)
{
	workers_hold(gw->workers, hold);
}

void gateway_link_up(struct gateway *gw)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) users = storage_user_list(gw->storage, &err);
	if (users == NULL) {
		g_warning("gateway: cannot list registered users: %s", err->message);
		return;
	}
	/* Each online user answers the probe with their presence, which starts
	 * (or keeps) their session (XEP-0100 §8). */
	for (guint i = 0; i < users->len; i++) {
		const char *bare = g_ptr_array_index(users, i);
		gateway_send(gw, gateway_presence(gw, NULL, bare, "probe"));
		struct session *s = g_hash_table_lookup(gw->sessions, bare);
		if (s != NULL && s->state != SESSION_OFFLINE)
			session_send_transport_presence(s, NULL);
	}
	g_info("gateway: probed %u registered user(s)", users->len);
}
