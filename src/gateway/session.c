/* session: one registered user's legacy login — which of their XMPP
 * resources are available and at what status, the login through a worker,
 * and retries with backoff after non-fatal losses. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/component.h"

#define RETRY_CAP_MS (5 * 60 * 1000)
#define LOST_WORKER_DELAY_MS 500

static void resource_free(gpointer data)
{
	struct resource *r = data;
	g_free(r->message);
	g_free(r);
}

struct session *session_get(struct gateway *gw, const char *bare_jid, bool create)
{
	struct session *s = g_hash_table_lookup(gw->sessions, bare_jid);
	if (s != NULL || !create)
		return s;
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings = storage_user_settings(gw->storage, bare_jid, &err);
	if (settings == NULL) {
		if (err != NULL)
			g_warning("session: cannot read the registration of %s: %s", bare_jid,
			          err->message);
		return NULL;
	}
	s = g_new0(struct session, 1);
	s->gw = gw;
	s->jid = g_strdup(bare_jid);
	s->resources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, resource_free);
	s->contacts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, contact_free);
	s->by_local = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s->inflight = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, inflight_free);
	g_hash_table_insert(gw->sessions, s->jid, s);
	return s;
}

static void unpace(struct session *s)
{
	if (s->paced)
		pacer_remove(s->gw->logins, s->jid);
	s->paced = false;
}

void session_free(gpointer data)
{
	struct session *s = data;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	unpace(s);
	if (s->account != 0) {
		/* as forget_account(): the last acknowledgements first (an
		 * outbox message they confirm is deleted, not sent again) */
		workers_logout(s->gw->workers, s->account);
		g_hash_table_remove(s->gw->accounts, GUINT_TO_POINTER(s->account));
	}
	g_hash_table_unref(s->resources);
	g_hash_table_unref(s->by_local);
	g_hash_table_unref(s->contacts);
	g_hash_table_unref(s->inflight);
	g_free(s->nick);
	g_free(s->failure);
	g_free(s->sent_message);
	g_free(s->jid);
	g_free(s);
}

bool session_user_available(const struct session *s)
{
	return g_hash_table_size(s->resources) > 0;
}

/* ---- the user's resources ------------------------------------------------------------- */

static guint32 status_from_show(const char *show)
{
	if (show == NULL || strcmp(show, "chat") == 0)
		return WORKER_STATUS_AVAILABLE;
	if (strcmp(show, "away") == 0)
		return WORKER_STATUS_AWAY;
	if (strcmp(show, "xa") == 0)
		return WORKER_STATUS_XA;
	if (strcmp(show, "dnd") == 0)
		return WORKER_STATUS_DND;
	return WORKER_STATUS_AVAILABLE;
}

/* The resource that sets the legacy status: highest priority, newest on ties. */
static const struct resource *best_resource(const struct session *s)
{
	const struct resource *best = NULL;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, s->resources);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct resource *r = value;
		if (best == NULL || r->priority > best->priority ||
		    (r->priority == best->priority && r->order > best->order))
			best = r;
	}
	return best;
}

/* Sends the best resource's status to the legacy side if it changed. */
static void sync_status(struct session *s)
{
	const struct resource *r = best_resource(s);
	if (r == NULL || s->state != SESSION_ONLINE)
		return;
	const char *msg = r->message != NULL ? r->message : "";
	if (r->status == s->sent_status && g_strcmp0(msg, s->sent_message) == 0)
		return;
	s->sent_status = r->status;
	g_free(s->sent_message);
	s->sent_message = g_strdup(msg);
	workers_send(s->gw->workers, s->account, WORKER_SET_STATUS,
	             g_variant_new("(us)", r->status, msg));
}

void session_on_user_presence(struct session *s, const char *resource, bool available,
                              const struct stanza *p)
{
	bool is_new = !g_hash_table_contains(s->resources, resource);
	if (!available) {
		g_hash_table_remove(s->resources, resource);
		if (!session_user_available(s) && s->state != SESSION_OFFLINE)
			session_logout(s, NULL);
		else
			sync_status(s);
		return;
	}
	struct resource *r = g_new0(struct resource, 1);
	g_autofree char *prio = stanza_get_child_text(p, "priority", NULL);
	r->priority = prio != NULL ? (int)g_ascii_strtoll(prio, NULL, 10) : 0;
	g_autofree char *show = stanza_get_child_text(p, "show", NULL);
	r->status = status_from_show(show);
	r->message = stanza_get_child_text(p, "status", NULL);
	r->order = ++s->resource_order;
	g_hash_table_replace(s->resources, g_strdup(resource), r);

	switch (s->state) {
	case SESSION_OFFLINE:
		session_login(s);
		break;
	case SESSION_FAILED:
		/* A wrong password stays wrong: only a client that comes online
		 * anew (a new resource) tries again. */
		if (is_new)
			session_login(s);
		else
			session_send_transport_presence(s, NULL);
		break;
	case SESSION_ONLINE:
		sync_status(s);
		if (is_new)
			session_send_transport_presence(s, stanza_get_from(p));
		break;
	default:
		break;
	}
}

/* ---- presence of the transport ---------------------------------------------------------- */

static const char *error_condition(guint32 reason)
{
	switch (reason) {
	case WORKER_REASON_AUTH:
		return "not-authorized";
	case WORKER_REASON_TIMEOUT:
	case WORKER_REASON_NETWORK:
		return "remote-server-timeout";
	case WORKER_REASON_NAME_IN_USE:
		return "conflict";
	default:
		return "not-acceptable";
	}
}

void session_send_transport_presence(struct session *s, const char *to)
{
	struct gateway *gw = s->gw;
	const char *dest = to != NULL ? to : s->jid;
	struct stanza *p;
	switch (s->state) {
	case SESSION_ONLINE: {
		p = gateway_presence(gw, NULL, dest, NULL);
		g_autofree char *status = g_strdup_printf("Connected to %s as %s",
		                                          regform_protocol_name(gw->form), s->nick);
		stanza_add_text_child(p, "status", status);
		break;
	}
	case SESSION_CONNECTING:
	case SESSION_RECONNECTING: {
		p = gateway_presence(gw, NULL, dest, NULL);
		stanza_add_text_child(p, "show", "away");
		g_autofree char *status = g_strdup_printf(
		    "%s to %s…", s->state == SESSION_CONNECTING ? "Connecting" : "Reconnecting",
		    regform_protocol_name(gw->form));
		stanza_add_text_child(p, "status", status);
		break;
	}
	default:
		p = gateway_presence(gw, NULL, dest, "unavailable");
		if (s->failure != NULL)
			stanza_add_text_child(p, "status", s->failure);
		break;
	}
	gateway_send(gw, p);
}

/* Tells the user why the login failed: a presence error from the transport
 * (XEP-0100 §4.4.2) and, for clients that do not show those, a message. */
static void report_failure(struct session *s, guint32 reason, const char *text)
{
	struct gateway *gw = s->gw;
	const char *cond = error_condition(reason);
	struct stanza *p = gateway_presence(gw, NULL, s->jid, "error");
	stanza_add_error(p, NULL, cond, text);
	gateway_send(gw, p);
	g_autofree char *msg =
	    g_strdup_printf("Could not log in to %s: %s", regform_protocol_name(gw->form), text);
	gateway_tell_user(gw, s->jid, msg);
}

/* ---- login and logout ------------------------------------------------------------------- */

static gboolean retry_due(gpointer data)
{
	struct session *s = data;
	s->retry_timer = 0;
	if (session_user_available(s))
		session_login(s);
	else
		session_logout(s, NULL);
	return G_SOURCE_REMOVE;
}

static void schedule_retry(struct session *s, guint delay_ms)
{
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	s->state = SESSION_RECONNECTING;
	s->retry_timer = g_timeout_add(delay_ms, retry_due, s);
	session_send_transport_presence(s, NULL);
}

static void forget_account(struct session *s)
{
	if (s->account == 0)
		return;
	/* Logout first: the worker's last acknowledgements still reach this
	 * session (nothing it sent is requeued). */
	workers_logout(s->gw->workers, s->account);
	g_hash_table_remove(s->gw->accounts, GUINT_TO_POINTER(s->account));
	s->account = 0;
}

static void signed_on(struct session *s, const char *nick);
static void start_login(struct session *s);
static void arm_pacer(struct gateway *gw);

/* CONNECTING for a first login (the user is told), RECONNECTING after a
 * loss (the user was told already). */
static void enter_connecting(struct session *s)
{
	bool first = s->state == SESSION_OFFLINE || s->state == SESSION_FAILED;
	g_clear_pointer(&s->failure, g_free);
	s->state = first ? SESSION_CONNECTING : SESSION_RECONNECTING;
	if (first)
		session_send_transport_presence(s, NULL);
}

static gboolean release_logins(gpointer data)
{
	struct gateway *gw = data;
	gw->login_timer = 0;
	gint64 now = g_get_monotonic_time();
	char *jid;
	while ((jid = pacer_next(gw->logins, now)) != NULL) {
		struct session *s = g_hash_table_lookup(gw->sessions, jid);
		if (s != NULL && s->paced) {
			s->paced = false;
			start_login(s);
		}
		g_free(jid);
	}
	arm_pacer(gw);
	return G_SOURCE_REMOVE;
}

static void arm_pacer(struct gateway *gw)
{
	if (gw->login_timer != 0)
		return;
	gint64 wait_us = pacer_wait_us(gw->logins, g_get_monotonic_time());
	if (wait_us >= 0)
		gw->login_timer =
		    g_timeout_add((guint)MAX(1, (wait_us + 999) / 1000), release_logins, gw);
}

void session_charge_login(struct gateway *gw)
{
	pacer_charge(gw->logins, g_get_monotonic_time());
}

void session_login(struct session *s)
{
	struct gateway *gw = s->gw;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	forget_account(s);
	unpace(s);
	guint32 kept = 0;
	g_autofree char *kept_nick = NULL;
	bool have_kept = registration_take_login(gw, s->jid, &kept, &kept_nick);
	if (have_kept && !workers_send(gw->workers, kept, WORKER_KEEP, g_variant_new("()"))) {
		workers_logout(gw->workers, kept);
		have_kept = false;
	}
	if (have_kept) {
		/* The registration's check login is still up: carry on with it. */
		g_info("session: %s: continuing the registration's login (account %u)", s->jid,
		       kept);
		s->account = kept;
		g_hash_table_insert(gw->accounts, GUINT_TO_POINTER(kept), s);
		s->sent_status = WORKER_STATUS_AVAILABLE;
		g_clear_pointer(&s->sent_message, g_free);
		g_clear_pointer(&s->failure, g_free);
		signed_on(s, kept_nick);
		return;
	}
	if (!pacer_admit(gw->logins, s->jid, g_get_monotonic_time())) {
		s->paced = true;
		g_debug("session: %s: waiting for a login slot (%u waiting)", s->jid,
		        pacer_queued(gw->logins));
		enter_connecting(s);
		arm_pacer(gw);
		return;
	}
	start_login(s);
}

static void start_login(struct session *s)
{
	struct gateway *gw = s->gw;
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(gw->storage, s->jid, &err);
	if (u == NULL) {
		g_warning("session: %s: cannot log in: %s", s->jid,
		          err != NULL ? err->message : "no longer registered");
		return;
	}
	g_autofree char *username = regform_legacy_username(gw->form, u->settings);
	g_autoptr(GHashTable) options = regform_account_options(gw->form, u->settings);
	guint32 id = workers_login(gw->workers, regform_protocol(gw->form), username, u->password,
	                           options, 0, &err);
	storage_user_free(u);
	if (id == 0) {
		g_warning("session: %s: no worker for the login: %s", s->jid, err->message);
		s->attempts++;
		schedule_retry(s,
		               component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double()));
		return;
	}
	g_info("session: %s: logging in to %s as %s (account %u)", s->jid,
	       regform_protocol(gw->form), username, id);
	s->account = id;
	g_hash_table_insert(gw->accounts, GUINT_TO_POINTER(id), s);
	s->sent_status = WORKER_STATUS_AVAILABLE;
	g_clear_pointer(&s->sent_message, g_free);
	enter_connecting(s);
}

void session_logout(struct session *s, const char *why)
{
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	unpace(s);
	if (s->account != 0)
		g_info("session: %s: logging out%s%s", s->jid, why != NULL ? ": " : "",
		       why != NULL ? why : "");
	forget_account(s);
	messages_requeue_inflight(s);
	contacts_all_offline(s);
	s->state = SESSION_OFFLINE;
	s->attempts = 0;
	g_clear_pointer(&s->nick, g_free);
	session_send_transport_presence(s, NULL);
}

static void on_connected(struct session *s, GVariant *payload)
{
	const char *nick = NULL;
	g_variant_get(payload, "(&s)", &nick);
	signed_on(s, nick);
}

static void signed_on(struct session *s, const char *nick)
{
	g_info("session: %s: signed on as %s", s->jid, nick);
	s->state = SESSION_ONLINE;
	s->attempts = 0;
	g_free(s->nick);
	s->nick = g_strdup(nick);
	session_send_transport_presence(s, NULL);
	contacts_load(s);
	contacts_push_buddies(s);
	sync_status(s);
	messages_flush_outbox(s);
}

static void on_disconnected(struct session *s, GVariant *payload)
{
	guint32 reason = 0;
	const char *text = NULL;
	gboolean fatal = FALSE;
	g_variant_get(payload, "(u&sb)", &reason, &text, &fatal);
	if (reason == WORKER_REASON_LOGOUT)
		return;
	forget_account(s);
	messages_requeue_inflight(s);
	contacts_all_offline(s);
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	if (fatal) {
		g_warning("session: %s: login failed for good: %s", s->jid, text);
		s->state = SESSION_FAILED;
		g_free(s->failure);
		s->failure = g_strdup(text);
		report_failure(s, reason, text);
		g_autofree char *why = g_strdup_printf("not connected to %s: %s",
		                                       regform_protocol_name(s->gw->form), text);
		messages_bounce_all(s, why);
		return;
	}
	s->attempts++;
	guint delay = component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double());
	g_info("session: %s: disconnected (%s); retrying in %.1f s", s->jid, text, delay / 1000.0);
	g_free(s->failure);
	s->failure = g_strdup(text);
	schedule_retry(s, delay);
}

void session_on_lost(struct session *s)
{
	g_hash_table_remove(s->gw->accounts, GUINT_TO_POINTER(s->account));
	s->account = 0;
	messages_requeue_inflight(s);
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	/* Not the user's fault nor the network's: back at once, quietly. The
	 * jitter spreads the logins of a worker's users. */
	guint delay = LOST_WORKER_DELAY_MS + g_random_int_range(0, 1000);
	g_info("session: %s: worker lost; logging in again in %.1f s", s->jid, delay / 1000.0);
	schedule_retry(s, delay);
}

void session_on_event(struct session *s, guint32 type, GVariant *payload)
{
	switch (type) {
	case WORKER_CONNECTED:
		on_connected(s, payload);
		break;
	case WORKER_DISCONNECTED:
		on_disconnected(s, payload);
		break;
	case WORKER_BUDDY_STATUS:
		contacts_on_buddy_status(s, payload);
		break;
	case WORKER_BUDDY_REMOVED:
		contacts_on_buddy_removed(s, payload);
		break;
	case WORKER_IM_RECEIVED:
		messages_on_im(s, payload);
		break;
	case WORKER_IM_RESULT:
		messages_on_im_result(s, payload);
		break;
	case WORKER_IMS_SENT:
		messages_on_ims_sent(s, payload);
		break;
	case WORKER_TYPING:
		messages_on_typing(s, payload);
		break;
	case WORKER_AUTH_REQUEST:
		contacts_on_auth_request(s, payload);
		break;
	case WORKER_NOTICE:
		messages_on_notice(s, payload);
		break;
	default:
		g_debug("session: %s: ignoring worker event %s", s->jid, worker_msg_name(type));
	}
}
