/* registration: jabber:iq:register (XEP-0077 with an XEP-0004 form, as
 * XEP-0100 uses it) and jabber:iq:gateway. Credentials are checked by one
 * test login through a worker before anything is stored. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/jid.h"

/* A registration waiting for its test login. */
struct pending_reg {
	struct gateway *gw;
	guint32 account;
	struct stanza *request; /* the iq set, to answer */
	char *jid;              /* the user's bare JID */
	GHashTable *settings;
	char *password; /* wiped on free */
	guint timer;
};

static void pending_free(struct pending_reg *p)
{
	g_clear_handle_id(&p->timer, g_source_remove);
	stanza_free(p->request);
	g_free(p->jid);
	g_hash_table_unref(p->settings);
	secrets_wipe_free(p->password);
	g_free(p);
}

/* Ends a pending registration: logs the test account out, forgets it. */
static void pending_end(struct gateway *gw, struct pending_reg *p)
{
	g_hash_table_remove(gw->pending_regs, GUINT_TO_POINTER(p->account));
	workers_logout(gw->workers, p->account);
	pending_free(p);
}

/* A checked login kept for the user's session, which normally starts a
 * moment later (after the subscription dance); logged out if it does not. */
struct kept_login {
	struct gateway *gw;
	guint32 account;
	char *jid;
	char *nick;
	guint timer;
};

#define KEPT_LOGIN_SECONDS 60

static void kept_free(struct kept_login *k)
{
	g_clear_handle_id(&k->timer, g_source_remove);
	g_free(k->jid);
	g_free(k->nick);
	g_free(k);
}

static gboolean kept_expired(gpointer data)
{
	struct kept_login *k = data;
	k->timer = 0;
	g_hash_table_remove(k->gw->kept_logins, GUINT_TO_POINTER(k->account));
	workers_logout(k->gw->workers, k->account);
	kept_free(k);
	return G_SOURCE_REMOVE;
}

static void keep_login(struct gateway *gw, struct pending_reg *p, const char *nick)
{
	struct kept_login *k = g_new0(struct kept_login, 1);
	k->gw = gw;
	k->account = p->account;
	k->jid = g_strdup(p->jid);
	k->nick = g_strdup(nick);
	k->timer = g_timeout_add_seconds(KEPT_LOGIN_SECONDS, kept_expired, k);
	g_hash_table_insert(gw->kept_logins, GUINT_TO_POINTER(k->account), k);
}

bool registration_owns(struct gateway *gw, guint32 account)
{
	return g_hash_table_contains(gw->pending_regs, GUINT_TO_POINTER(account)) ||
	       g_hash_table_contains(gw->kept_logins, GUINT_TO_POINTER(account));
}

bool registration_take_login(struct gateway *gw, const char *bare_jid, guint32 *account,
                             char **nick)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, gw->kept_logins);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct kept_login *k = value;
		if (strcmp(k->jid, bare_jid) != 0)
			continue;
		g_hash_table_iter_remove(&it);
		*account = k->account;
		*nick = g_steal_pointer(&k->nick);
		kept_free(k);
		return true;
	}
	return false;
}

void registration_free_all(struct gateway *gw)
{
	GHashTableIter kit;
	gpointer kept;
	g_hash_table_iter_init(&kit, gw->kept_logins);
	while (g_hash_table_iter_next(&kit, NULL, &kept))
		kept_free(kept);
	g_hash_table_remove_all(gw->kept_logins);

	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, gw->pending_regs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct pending_reg *p = value;
		router_send_error(gw->router, p->request, "service-unavailable",
		                  "the transport is shutting down");
		pending_free(p);
	}
	g_hash_table_remove_all(gw->pending_regs);
}

static bool is_registered(struct gateway *gw, const char *bare, GHashTable **settings)
{
	g_autoptr(GError) err = NULL;
	GHashTable *stored = storage_user_settings(gw->storage, bare, &err);
	if (stored == NULL) {
		if (err != NULL)
			g_warning("registration: cannot read the registration of %s: %s", bare,
			          err->message);
		return false;
	}
	if (settings != NULL)
		*settings = stored;
	else
		g_hash_table_unref(stored);
	return true;
}

/* ---- the test login ------------------------------------------------------------------ */

/* Stores the checked registration, answers, and keeps its login for the
 * session; false if it could not be stored. */
static bool registration_done(struct gateway *gw, struct pending_reg *p, const char *nick)
{
	g_autoptr(GError) err = NULL;
	bool existed = is_registered(gw, p->jid, NULL);
	if (!storage_user_put(gw->storage, p->jid, p->settings, p->password, &err)) {
		g_warning("registration: cannot store %s: %s", p->jid, err->message);
		router_send_error(gw->router, p->request, "internal-server-error",
		                  "the registration could not be stored");
		return false;
	}
	g_message("registration: %s %s", p->jid, existed ? "updated" : "registered");
	router_send_result(gw->router, p->request);
	keep_login(gw, p, nick);
	if (!existed) {
		/* Ask to be in the user's roster (XEP-0100 §4.1.1): the server's
		 * answer, and the user's presence, start the session. */
		gateway_send(gw, gateway_presence(gw, NULL, p->jid, "subscribe"));
		return true;
	}
	struct session *s = session_get(gw, p->jid, false);
	if (s != NULL && session_user_available(s))
		session_login(s); /* new credentials take effect now */
	return true;
}

void registration_on_event(struct gateway *gw, guint32 account, guint32 type, GVariant *payload)
{
	struct kept_login *k = g_hash_table_lookup(gw->kept_logins, GUINT_TO_POINTER(account));
	if (k != NULL) {
		/* Only sign-on events reach a test login; a disconnect ends it. */
		if (type == WORKER_DISCONNECTED) {
			g_hash_table_remove(gw->kept_logins, GUINT_TO_POINTER(account));
			workers_logout(gw->workers, account);
			kept_free(k);
		}
		return;
	}
	struct pending_reg *p = g_hash_table_lookup(gw->pending_regs, GUINT_TO_POINTER(account));
	if (type == WORKER_CONNECTED) {
		const char *nick = NULL;
		g_variant_get(payload, "(&s)", &nick);
		if (registration_done(gw, p, nick)) {
			/* The check login lives on (kept_logins) as the session
			 * about to start. */
			g_hash_table_remove(gw->pending_regs, GUINT_TO_POINTER(account));
			pending_free(p);
		} else {
			pending_end(gw, p);
		}
	} else if (type == WORKER_DISCONNECTED) {
		guint32 reason = 0;
		const char *text = NULL;
		gboolean fatal = FALSE;
		g_variant_get(payload, "(u&sb)", &reason, &text, &fatal);
		g_info("registration: %s: test login failed: %s", p->jid, text);
		g_autofree char *why =
		    g_strdup_printf("%s login failed: %s", regform_protocol_name(gw->form), text);
		router_send_error(
		    gw->router, p->request,
		    reason == WORKER_REASON_AUTH ? "not-authorized" : "not-acceptable", why);
		pending_end(gw, p);
	}
}

void registration_on_lost(struct gateway *gw, guint32 account)
{
	struct kept_login *k = g_hash_table_lookup(gw->kept_logins, GUINT_TO_POINTER(account));
	if (k != NULL) {
		g_hash_table_remove(gw->kept_logins, GUINT_TO_POINTER(account));
		kept_free(k);
		return;
	}
	struct pending_reg *p = g_hash_table_lookup(gw->pending_regs, GUINT_TO_POINTER(account));
	router_send_error(gw->router, p->request, "internal-server-error",
	                  "the login check was interrupted; please try again");
	g_hash_table_remove(gw->pending_regs, GUINT_TO_POINTER(account));
	pending_free(p);
}

static gboolean test_timeout(gpointer data)
{
	struct pending_reg *p = data;
	p->timer = 0;
	g_autofree char *why =
	    g_strdup_printf("no answer from %s within %d s", regform_protocol_name(p->gw->form),
	                    GATEWAY_TEST_LOGIN_SECONDS);
	router_send_error(p->gw->router, p->request, "remote-server-timeout", why);
	pending_end(p->gw, p);
	return G_SOURCE_REMOVE;
}

static bool pending_for(struct gateway *gw, const char *bare)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, gw->pending_regs);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (strcmp(((struct pending_reg *)value)->jid, bare) == 0)
			return true;
	return false;
}

/* ---- jabber:iq:register ------------------------------------------------------------------ */

static void answer_get(struct gateway *gw, const struct stanza *iq, const char *bare)
{
	GHashTable *values = NULL;
	bool registered = is_registered(gw, bare, &values);
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(reply, "query", NS_REGISTER);
	if (registered)
		stanza_add_child(q, "registered", NULL);
	regform_fill_query(gw->form, q, values);
	if (values != NULL)
		g_hash_table_unref(values);
	router_send(gw->router, reply);
}

static void unregister(struct gateway *gw, const struct stanza *iq, const char *bare)
{
	if (!is_registered(gw, bare, NULL)) {
		router_send_error(gw->router, iq, "registration-required",
		                  "you are not registered");
		return;
	}
	struct session *s = session_get(gw, bare, true);
	if (s != NULL) {
		contacts_remove_all(s);
		session_logout(s, "unregistered");
		messages_bounce_all(s, "you unregistered from the transport");
		g_hash_table_remove(gw->sessions, bare);
	}
	g_autoptr(GError) err = NULL;
	if (!storage_user_delete(gw->storage, bare, &err)) {
		g_warning("registration: cannot delete %s: %s", bare, err->message);
		router_send_error(gw->router, iq, "internal-server-error",
		                  "the registration could not be deleted");
		return;
	}
	g_message("registration: %s unregistered", bare);
	router_send_result(gw->router, iq);
	gateway_send(gw, gateway_presence(gw, NULL, bare, "unsubscribe"));
	gateway_send(gw, gateway_presence(gw, NULL, bare, "unsubscribed"));
	gateway_send(gw, gateway_presence(gw, NULL, bare, "unavailable"));
}

static void answer_set(struct gateway *gw, const struct stanza *iq, const char *bare)
{
	const struct stanza *q = stanza_find_child(iq, "query", NS_REGISTER);
	if (stanza_find_child(q, "remove", NULL) != NULL) {
		if (stanza_child_count(q) != 1)
			router_send_error(gw->router, iq, "bad-request",
			                  "<remove/> must come alone");
		else
			unregister(gw, iq, bare);
		return;
	}
	GHashTable *settings = NULL;
	char *password = NULL;
	g_autoptr(GError) problem = NULL;
	if (!regform_parse(gw->form, q, &settings, &password, &problem)) {
		router_send_error(gw->router, iq, "not-acceptable", problem->message);
		return;
	}
	if (pending_for(gw, bare)) {
		g_hash_table_unref(settings);
		secrets_wipe_free(password);
		router_send_error(gw->router, iq, "conflict",
		                  "a registration of yours is already being checked");
		return;
	}
	g_autofree char *username = regform_legacy_username(gw->form, settings);
	g_autoptr(GHashTable) options = regform_account_options(gw->form, settings);
	g_autoptr(GError) err = NULL;
	session_charge_login(gw); /* the user waits: no queue, but it counts */
	guint32 account = workers_login(gw->workers, regform_protocol(gw->form), username, password,
	                                options, WORKER_LOGIN_TEST, &err);
	if (account == 0) {
		g_warning("registration: %s: cannot start a test login: %s", bare, err->message);
		g_hash_table_unref(settings);
		secrets_wipe_free(password);
		router_send_error(gw->router, iq, "internal-server-error",
		                  "the transport cannot log in right now");
		return;
	}
	struct pending_reg *p = g_new0(struct pending_reg, 1);
	p->gw = gw;
	p->account = account;
	p->request = stanza_copy(iq);
	p->jid = g_strdup(bare);
	p->settings = settings;
	p->password = password;
	p->timer = g_timeout_add_seconds(GATEWAY_TEST_LOGIN_SECONDS, test_timeout, p);
	g_hash_table_insert(gw->pending_regs, GUINT_TO_POINTER(account), p);
	g_info("registration: %s: checking %s credentials for %s", bare, regform_protocol(gw->form),
	       username);
}

/* The sender's bare JID when it may register; else answers and NULL. */
static char *registrant(struct gateway *gw, const struct stanza *iq)
{
	const char *from = stanza_get_from(iq);
	g_autoptr(GError) err = NULL;
	struct jid *j = from != NULL ? jid_parse(from, &err) : NULL;
	if (j == NULL || jid_local(j) == NULL ||
	    !settings_domain_allowed(gw->settings, jid_domain(j))) {
		g_autofree char *text = g_strdup_printf("%s serves users of %s only", gw->jid,
		                                        gw->settings->allowed_domains[0]);
		router_send_error(gw->router, iq, "forbidden", text);
		jid_free(j);
		return NULL;
	}
	char *bare = g_strdup(jid_bare(j));
	jid_free(j);
	return bare;
}

static enum router_result on_register(struct router *r, const struct stanza *iq, void *data)
{
	struct gateway *gw = data;
	if (!router_to_transport(r, iq))
		return ROUTER_PASS;
	g_autofree char *bare = registrant(gw, iq);
	if (bare == NULL)
		return ROUTER_HANDLED;
	if (g_strcmp0(stanza_get_type(iq), "get") == 0)
		answer_get(gw, iq, bare);
	else
		answer_set(gw, iq, bare);
	return ROUTER_HANDLED;
}

/* ---- jabber:iq:gateway (XEP-0100 §6.3) ----------------------------------------------------- */

static enum router_result on_gateway(struct router *r, const struct stanza *iq, void *data)
{
	struct gateway *gw = data;
	if (!router_to_transport(r, iq))
		return ROUTER_PASS;
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(reply, "query", NS_GATEWAY);
	if (g_strcmp0(stanza_get_type(iq), "get") == 0) {
		g_autofree char *desc = g_strdup_printf("Enter the %s name of the contact to add.",
		                                        regform_protocol_name(gw->form));
		stanza_add_text_child(q, "desc", desc);
		stanza_add_text_child(q, "prompt", "Contact ID");
		router_send(r, reply);
		return ROUTER_HANDLED;
	}
	g_autofree char *prompt =
	    stanza_get_child_text(stanza_find_child(iq, "query", NS_GATEWAY), "prompt", NULL);
	g_autofree char *local = prompt != NULL ? jid_escape_local(g_strstrip(prompt)) : NULL;
	if (local == NULL) {
		stanza_free(reply);
		router_send_error(r, iq, "not-acceptable",
		                  "that is not a legacy name a JID can carry");
		return ROUTER_HANDLED;
	}
	g_autofree char *jid = g_strdup_printf("%s@%s", local, gw->jid);
	stanza_add_text_child(q, "jid", jid);
	router_send(r, reply);
	return ROUTER_HANDLED;
}

void registration_register(struct gateway *gw)
{
	router_add_iq_handler(gw->router, NS_REGISTER, on_register, gw);
	router_add_iq_handler(gw->router, NS_GATEWAY, on_gateway, gw);
	disco_add_feature(gw->disco, NS_REGISTER);
	disco_add_feature(gw->disco, NS_GATEWAY);
}
