/* session: one registered user's legacy login — which of their XMPP
 * resources are available and at what status, the login through the
 * legacy side, and retries with backoff after non-fatal losses. Sessions
 * are kept by bare JID and by legacy account id (struct sessions). How a
 * session ends otherwise than by a plain logout (drains, unregistration,
 * quarantine, stalls) is session_end.c's; struct session is in internal.h. */
#include "config.h"
#include "internal.h"
#include "prompts.h"

#include <string.h>

#include "ferry/component.h"

#define RETRY_CAP_MS (5 * 60 * 1000)
#define LOST_WORKER_DELAY_MS 500
/* How long a login waits for the connection logged out before it to be
 * gone (its DISCONNECTED): IRC would still have its nick ("alice1"). */
#define LEFT_WAIT_MS 8000
#define LEFT_GRACE_MS 1000

struct sessions {
	const struct gateway_ctx *ctx;
	GHashTable *by_jid;     /* bare JID -> struct session * (owned) */
	GHashTable *by_account; /* legacy account id -> struct session * */
	guint64 login_failures; /* logins that ended before signing on, since start */
};

static void unpace(struct session *s)
{
	if (s->paced)
		logins_cancel(s->ctx->logins, s->jid);
	s->paced = false;
}

/* Stops listening to the logged-out account (its late word, if any more
 * comes, goes nowhere). */
static void drop_left(struct session *s)
{
	if (s->left_account == 0)
		return;
	g_hash_table_remove(s->sessions->by_account, GUINT_TO_POINTER(s->left_account));
	s->left_account = 0;
}

static void link_free(struct session_link *link)
{
	if (link == NULL)
		return;
	g_free(link->subject);
	g_free(link->issuer);
	g_free(link->sha256);
	g_free(link);
}

static void session_free(gpointer data)
{
	struct session *s = data;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	g_clear_handle_id(&s->left_wait, g_source_remove);
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	g_clear_handle_id(&s->leaving_timer, g_source_remove);
	s->draining = false;
	/* ferry stopping (or the user gone): joined resources are told (332) */
	rooms_end_all(s, "332");
	if (s->leaving_free != NULL) /* ferry stops first: the user stays registered */
		s->leaving_free(s->leaving_data);
	s->leaving_done = NULL;
	s->leaving_free = NULL;
	g_clear_pointer(&s->leaving_why, g_free);
	unpace(s);
	/* the last acknowledgements first (an outbox message they confirm is
	 * deleted, not sent again) */
	session_forget_account(s);
	drop_left(s); /* stopping: no late word is read any more */
	/* as session_logout(): what is still unacknowledged waits in the
	 * outbox for the next run instead of being forgotten */
	messages_requeue_inflight(s);
	resources_free(s->resources);
	contacts_free(s->contacts);
	messages_free(s->messages);
	rooms_free(s->rooms);
	g_free(s->nick);
	g_free(s->failure);
	g_free(s->sent_message);
	link_free(s->link);
	g_free(s->jid);
	g_free(s);
}

/* ---- the table -------------------------------------------------------------------------- */

struct sessions *sessions_new(const struct gateway_ctx *ctx)
{
	struct sessions *ss = g_new0(struct sessions, 1);
	ss->ctx = ctx;
	ss->by_jid = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
	ss->by_account = g_hash_table_new(g_direct_hash, g_direct_equal);
	return ss;
}

void sessions_free(struct sessions *ss)
{
	if (ss == NULL)
		return;
	/* Users still online see the transport and their contacts go: nobody
	 * else would tell their clients (the server keeps a component's
	 * presence as it was). */
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, ss->by_jid);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct session *s = value;
		if (s->state == SESSION_OFFLINE)
			continue;
		contacts_all_offline(s);
		s->state = SESSION_OFFLINE;
		g_free(s->failure);
		s->failure = g_strdup("The transport is shutting down");
		session_send_transport_presence(s, NULL);
	}
	/* Each session logs out; by_account stays usable meanwhile (the last
	 * acknowledgements still reach their session). */
	g_hash_table_remove_all(ss->by_jid);
	g_hash_table_unref(ss->by_jid);
	g_hash_table_unref(ss->by_account);
	g_free(ss);
}

struct session *sessions_get(struct sessions *ss, const char *bare_jid, bool create)
{
	struct session *s = g_hash_table_lookup(ss->by_jid, bare_jid);
	if (s != NULL || !create)
		return s;
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings = storage_user_settings(ss->ctx->storage, bare_jid, &err);
	if (settings == NULL) {
		if (err != NULL)
			g_warning("session: cannot read the registration of %s: %s", bare_jid,
			          err->message);
		return NULL;
	}
	s = g_new0(struct session, 1);
	s->sessions = ss;
	s->ctx = ss->ctx;
	s->jid = g_strdup(bare_jid);
	s->resources = resources_new();
	s->contacts = contacts_new(s);
	s->messages = messages_new(s);
	s->rooms = rooms_new(s);
	g_hash_table_insert(ss->by_jid, s->jid, s);
	return s;
}

struct session *sessions_by_account(struct sessions *ss, guint32 account)
{
	return g_hash_table_lookup(ss->by_account, GUINT_TO_POINTER(account));
}

void sessions_remove(struct sessions *ss, const char *bare_jid)
{
	g_hash_table_remove(ss->by_jid, bare_jid);
}

/* ---- what the other modules read ---------------------------------------------------------- */

const struct gateway_ctx *session_ctx(const struct session *s)
{
	return s->ctx;
}

const char *session_jid(const struct session *s)
{
	return s->jid;
}

const char *session_nick(const struct session *s)
{
	return s->nick;
}

enum session_state session_state(const struct session *s)
{
	return s->state;
}

guint32 session_account(const struct session *s)
{
	return s->account;
}

const char *session_failure(const struct session *s)
{
	return s->failure;
}

const struct session_link *session_link(const struct session *s)
{
	return s->link;
}

guint64 sessions_login_failures(const struct sessions *ss)
{
	return ss->login_failures;
}

static gint by_jid_order(gconstpointer a, gconstpointer b)
{
	const struct session *const *x = a, *const *y = b;
	return strcmp((*x)->jid, (*y)->jid);
}

GPtrArray *sessions_list(const struct sessions *ss)
{
	GPtrArray *list = g_ptr_array_new();
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, ss->by_jid);
	while (g_hash_table_iter_next(&it, NULL, &value))
		g_ptr_array_add(list, value);
	g_ptr_array_sort(list, by_jid_order);
	return list;
}

bool *session_bare_cleared(struct session *s)
{
	return &s->bare_cleared;
}

struct contacts *session_contacts(struct session *s)
{
	return s->contacts;
}

struct messages *session_messages(struct session *s)
{
	return s->messages;
}

struct rooms *session_rooms(struct session *s)
{
	return s->rooms;
}

bool session_user_available(const struct session *s)
{
	return resources_any(s->resources);
}

bool session_resource_available(const struct session *s, const char *full_jid)
{
	const char *slash = full_jid != NULL ? strchr(full_jid, '/') : NULL;
	return slash != NULL && resources_has(s->resources, slash + 1);
}

/* ---- the user's resources ------------------------------------------------------------- */

/* Sends the best resource's status to the legacy side if it changed. */
static void sync_status(struct session *s)
{
	guint32 status;
	const char *msg;
	if (!resources_best(s->resources, &status, &msg) || s->state != SESSION_ONLINE)
		return;
	if (status == s->sent_status && g_strcmp0(msg, s->sent_message) == 0)
		return;
	s->sent_status = status;
	g_free(s->sent_message);
	s->sent_message = g_strdup(msg);
	(void)LEGACY_SEND(s->ctx->legacy, set_status, .account = s->account, .status = status,
	                  .message = msg);
}

void session_on_user_presence(struct session *s, const char *resource, bool available,
                              const struct stanza *p)
{
	bool is_new = !resources_has(s->resources, resource);
	if (!available) {
		resources_remove(s->resources, resource);
		if (!session_user_available(s) && s->state == SESSION_ONLINE)
			legacy_sync(s->ctx->legacy, s->account); /* what is still in flight? */
		if (!session_user_available(s) && s->state == SESSION_ONLINE && messages_pending(s))
			session_start_drain(s);
		else if (!session_user_available(s) && s->state != SESSION_OFFLINE)
			session_logout(s, NULL);
		else
			sync_status(s);
		return;
	}
	if (s->draining) {
		g_info("session: %s: back while messages were still going out", s->jid);
		session_stop_drain(s);
	}
	resources_update(s->resources, resource, p);

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

void session_schedule_retry(struct session *s, guint delay_ms)
{
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	g_clear_handle_id(&s->left_wait, g_source_remove);
	s->state = SESSION_RECONNECTING;
	s->retry_timer = g_timeout_add(delay_ms, retry_due, s);
	session_send_transport_presence(s, NULL);
}

static void adopt_account(struct session *s, guint32 account)
{
	s->account = account;
	g_hash_table_insert(s->sessions->by_account, GUINT_TO_POINTER(account), s);
	s->sent_status = WORKER_STATUS_AVAILABLE;
	g_clear_pointer(&s->sent_message, g_free);
}

void session_forget_account(struct session *s)
{
	if (s->account == 0)
		return;
	/* Logout first: the worker's last acknowledgements still reach this
	 * session (nothing it sent is requeued). The worker may die while
	 * they are read: session_on_lost() then only lets the account go,
	 * and the caller decides what comes next. */
	guint32 old = s->account;
	g_clear_pointer(&s->link, link_free); /* the next login reports its own */
	muc_list_session_ended(s);
	drop_left(s);
	s->forgetting = true;
	s->left_account = old; /* its last word may come inside the logout */
	legacy_logout(s->ctx->legacy, old);
	s->forgetting = false;
	s->account = 0;
	/* what rooms were told and the logout did not confirm */
	room_echoes_fail(s, old, "the legacy connection was logged out before the room took it");
	/* The worker still reports on the messages it had (written lines
	 * count as sent, how far each went) until the account's DISCONNECTED
	 * (LOGOUT): on_disconnected() settles the rest then. */
	if (s->left_account != old || !legacy_logout_pending(s->ctx->legacy, old)) {
		if (s->left_account == old)
			s->left_account = 0;
		g_hash_table_remove(s->sessions->by_account, GUINT_TO_POINTER(old));
	}
}

static void signed_on(struct session *s, const char *nick);
static void start_login(struct session *s);
static void on_link_info(void *data, const struct worker_msg_link_info *m);

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

void sessions_login_ready(struct sessions *ss, const char *bare_jid)
{
	struct session *s = g_hash_table_lookup(ss->by_jid, bare_jid);
	if (s != NULL && s->paced) {
		s->paced = false;
		start_login(s);
	}
}

/* The login itself, once no logged-out connection is in its way. */
static void login_now(struct session *s)
{
	const struct gateway_ctx *ctx = s->ctx;
	if (!logins_admit(ctx->logins, s->jid)) {
		s->paced = true;
		g_debug("session: %s: waiting for a login slot (%u waiting)", s->jid,
		        logins_waiting(ctx->logins));
		enter_connecting(s);
		return;
	}
	start_login(s);
}

static gboolean left_wait_over(gpointer data)
{
	struct session *s = data;
	s->left_wait = 0;
	if (s->left_account != 0)
		g_message("session: %s: the logged-out account %u is not gone after %d ms; logging "
		          "in anyway",
		          s->jid, s->left_account, LEFT_WAIT_MS);
	login_now(s);
	return G_SOURCE_REMOVE;
}

/* The logged-out account is gone: a login waiting for it goes after
 * LEFT_GRACE_MS (the worker closed the connection; the server may not
 * have read its QUIT yet). */
static void left_gone(struct session *s)
{
	if (s->left_wait == 0)
		return;
	g_source_remove(s->left_wait);
	s->left_wait = g_timeout_add(LEFT_GRACE_MS, left_wait_over, s);
}

/* WAIT_LEFT: the connection logged out here must be gone before the new
 * one starts (session_relogin); otherwise they may overlap, the old one's
 * late events kept apart (session_on_event). */
static void login(struct session *s, bool wait_left)
{
	const struct gateway_ctx *ctx = s->ctx;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	g_clear_handle_id(&s->left_wait, g_source_remove);
	session_forget_account(s);
	unpace(s);
	guint32 kept = 0;
	g_autofree char *kept_nick = NULL;
	bool have_kept = logins_take_kept(ctx->logins, s->jid, &kept, &kept_nick);
	if (have_kept && !LEGACY_SEND(ctx->legacy, keep, .account = kept)) {
		legacy_logout(ctx->legacy, kept);
		have_kept = false;
	}
	if (have_kept) {
		/* The registration's check login is still up: carry on with it. */
		g_info("session: %s: continuing the registration's login (account %u)", s->jid,
		       kept);
		adopt_account(s, kept);
		/* its LINK_INFO went to the registration: the legacy side kept it */
		struct worker_msg_link_info link;
		if (legacy_link_info(ctx->legacy, kept, &link)) {
			on_link_info(s, &link);
			worker_msg_link_info_clear(&link);
		}
		/* a stall the registration let be is this session's from now */
		legacy_new_owner(ctx->legacy, kept);
		g_clear_pointer(&s->failure, g_free);
		signed_on(s, kept_nick);
		return;
	}
	if (wait_left && s->left_account != 0) {
		/* the connection just logged out is still going: a login now
		 * races its end (IRC: its nick still taken) */
		g_debug("session: %s: logging in once account %u is gone", s->jid, s->left_account);
		enter_connecting(s);
		s->left_wait = g_timeout_add(LEFT_WAIT_MS, left_wait_over, s);
		return;
	}
	login_now(s);
}

void session_login(struct session *s)
{
	login(s, false);
}

void session_relogin(struct session *s)
{
	login(s, true);
}

/* A stored registration ferry will not log in with (WHY names the field):
 * failed for good, and the user told to register again. */
static void refuse_stored(struct session *s, const char *why)
{
	g_warning("session: %s: not logging in: %s", s->jid, why);
	s->state = SESSION_FAILED;
	g_free(s->failure);
	s->failure = g_strdup_printf("%s; please register again", why);
	session_report_failure(s, WORKER_REASON_INVALID, s->failure);
}

static void start_login(struct session *s)
{
	const struct gateway_ctx *ctx = s->ctx;
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(ctx->storage, s->jid, &err);
	if (u == NULL) {
		g_warning("session: %s: cannot log in: %s", s->jid,
		          err != NULL ? err->message : "no longer registered");
		return;
	}
	if (!regform_check_login(ctx->form, u->settings, u->password, &err)) {
		/* a line break would reach the legacy server as a command of its own */
		storage_user_free(u);
		refuse_stored(s, err->message);
		return;
	}
	g_autofree char *username = regform_legacy_username(ctx->form, u->settings);
	g_autoptr(GHashTable) options = regform_account_options(ctx->form, u->settings);
	prompts_login_options(u->settings, options); /* B1: pinned certificates */
	const struct worker_msg_login login = {
	    .protocol = regform_protocol(ctx->form),
	    .username = username,
	    .password = u->password,
	    .options = options,
	};
	guint32 id = legacy_login(ctx->legacy, &login, &err);
	storage_user_free(u);
	if (id == 0) {
		g_warning("session: %s: no worker for the login: %s", s->jid, err->message);
		s->sessions->login_failures++;
		s->attempts++;
		session_schedule_retry(
		    s, component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double()));
		return;
	}
	g_info("session: %s: logging in to %s as %s (account %u)", s->jid,
	       regform_protocol(ctx->form), username, id);
	adopt_account(s, id);
	enter_connecting(s);
}

void session_logout(struct session *s, const char *why)
{
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	g_clear_handle_id(&s->left_wait, g_source_remove);
	session_stop_drain(s);
	unpace(s);
	if (s->account != 0)
		g_info("session: %s: logging out%s%s", s->jid, why != NULL ? ": " : "",
		       why != NULL ? why : "");
	session_forget_account(s);
	/* the logged-out account's messages wait for its last word */
	messages_requeue_inflight_but(s, s->left_account);
	contacts_all_offline(s);
	rooms_end_all(s, "333"); /* resources still joined are told */
	s->state = SESSION_OFFLINE;
	s->attempts = 0;
	g_clear_pointer(&s->nick, g_free);
	session_send_transport_presence(s, NULL);
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
	rooms_on_signed_on(s);
}

static void on_connected(void *data, const struct worker_msg_connected *m)
{
	signed_on(data, m->nick);
}

/* libpurple signed on under another name than the user's (IRC: the nick
 * was taken): the user must know what others see. */
static void on_name_fallback(void *data, const struct worker_msg_name_fallback *m)
{
	struct session *s = data;
	const struct gateway_ctx *ctx = s->ctx;
	bool cut = address_name_shortened(m->wanted, m->given);
	g_info("session: %s: %s was %s; signed on as %s", s->jid, m->wanted,
	       cut ? "too long" : "taken", m->given);
	g_autofree char *text = g_strdup_printf(
	    cut ? "%s is longer than %s allows; you are %s" : "%s was taken on %s; you are %s",
	    m->wanted, regform_protocol_name(ctx->form), m->given);
	out_tell_user(ctx->router, s->jid, text);
}

static void on_disconnected(void *data, const struct worker_msg_disconnected *m)
{
	struct session *s = data;
	if (m->reason == WORKER_REASON_LOGOUT) {
		if (m->account != 0 && m->account == s->left_account) {
			/* the logged-out account's last word: what it did not
			 * report sent did not go */
			drop_left(s);
			messages_settle_left(s, m->account);
			left_gone(s);
		}
		return;
	}
	if (m->reason == WORKER_REASON_CRASHED) {
		session_quarantine(s, m->text);
		return;
	}
	if (s->state != SESSION_ONLINE)
		s->sessions->login_failures++; /* it never signed on (stats) */
	if (s->draining) {
		g_autofree char *what =
		    g_strdup_printf("the connection to %s was lost (%s)",
		                    regform_protocol_name(s->ctx->form), m->text);
		session_drain_cut(s, what);
		return;
	}
	session_forget_account(s);
	bool failed = m->fatal && session_user_available(s);
	g_autofree char *why = failed
	                           ? g_strdup_printf("not connected to %s: %s",
	                                             regform_protocol_name(s->ctx->form), m->text)
	                           : NULL;
	/* no retry will send what was in flight: answered now, with how much
	 * of each went; otherwise its unsent rest waits for the next login */
	if (failed)
		messages_fail_inflight(s, why);
	else
		messages_requeue_inflight(s);
	contacts_all_offline(s);
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	if (failed) {
		g_warning("session: %s: login failed for good: %s", s->jid, m->text);
		s->state = SESSION_FAILED;
		g_free(s->failure);
		s->failure = g_strdup(m->text);
		session_report_failure(s, m->reason, m->text);
		messages_bounce_all(s, why);
		rooms_end_all(s, "333");
		return;
	}
	s->attempts++;
	guint delay = component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double());
	g_info("session: %s: disconnected (%s); retrying in %.1f s", s->jid, m->text,
	       delay / 1000.0);
	g_free(s->failure);
	s->failure = g_strdup(m->text);
	session_schedule_retry(s, delay);
}

void session_on_lost(struct session *s)
{
	guint32 lost = s->account;
	g_hash_table_remove(s->sessions->by_account, GUINT_TO_POINTER(s->account));
	s->account = 0;
	g_clear_pointer(&s->link, link_free);
	muc_list_session_ended(s);
	room_echoes_fail(s, lost, "the transport's connection process for it stopped");
	if (s->draining && !s->forgetting) {
		session_drain_cut(s, "the transport's connection process for it stopped");
		return;
	}
	messages_requeue_inflight(s);
	if (s->forgetting)
		return; /* lost inside our own logout: no retry, no presence */
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	/* Not the user's fault nor the network's: back at once, quietly. The
	 * jitter spreads the logins of a worker's users. */
	guint delay = LOST_WORKER_DELAY_MS + g_random_int_range(0, 1000);
	g_info("session: %s: worker lost; logging in again in %.1f s", s->jid, delay / 1000.0);
	session_schedule_retry(s, delay);
}

/* A message or typing from a contact is a sign of life (contacts.c ends
 * an away learned from an automatic reply) before it is relayed. */
static void on_im_received(void *data, const struct worker_msg_im_received *m)
{
	contacts_on_activity(data, m->name);
	messages_on_im_received(data, m);
}

static void on_typing(void *data, const struct worker_msg_typing *m)
{
	if (m->state == WORKER_TYPING_ACTIVE)
		contacts_on_activity(data, m->name);
	messages_on_typing(data, m);
}

/* How the legacy link is protected (before CONNECTED, again on a change):
 * kept for the status command until the login ends. */
static void on_link_info(void *data, const struct worker_msg_link_info *m)
{
	struct session *s = data;
	link_free(s->link);
	s->link = g_new0(struct session_link, 1);
	s->link->encrypted = m->encrypted;
	s->link->subject = g_strdup(m->subject);
	s->link->issuer = g_strdup(m->issuer);
	s->link->sha256 = g_strdup(m->sha256);
	s->link->trust = m->trust;
	g_debug("session: %s: legacy link %s (trust %u)", s->jid,
	        m->encrypted ? "encrypted" : "not encrypted", m->trust);
}

/* Every event a session's account reports, to the module that handles it
 * (DATA: the session). */
static const struct worker_msg_handlers session_handlers = {
    .connected = on_connected,
    .name_fallback = on_name_fallback,
    .disconnected = on_disconnected,
    .buddy_status = contacts_on_buddy_status,
    .buddy_removed = contacts_on_buddy_removed,
    .auth_request = contacts_on_auth_request,
    .buddy_away = contacts_on_buddy_away,
    .im_received = on_im_received,
    .im_result = messages_on_im_result,
    .ims_sent = messages_on_ims_sent,
    .im_queued = messages_on_im_queued,
    .im_progress = messages_on_im_progress,
    .typing = on_typing,
    .notice = messages_on_notice,
    .chat_joined = rooms_on_chat_joined,
    .chat_join_failed = rooms_on_chat_join_failed,
    .chat_occupant = rooms_on_chat_occupant,
    .chat_occupant_left = rooms_on_chat_occupant_left,
    .chat_renamed = rooms_on_chat_renamed,
    .chat_message = rooms_on_chat_message,
    .chat_topic = rooms_on_chat_topic,
    .chat_left = rooms_on_chat_left,
    .chat_invited = rooms_on_chat_invited,
    .chat_error = rooms_on_chat_error,
    .room_list = muc_on_room_list,
    .room_info = muc_on_room_info,
    .link_info = on_link_info,
    .file_offered = content_on_file_offered,
};

/* The logged-out account's last word. Its DISCONNECTED of any reason (a
 * network error can reach the worker before the LOGOUT) ends it: what it
 * did not report sent did not go. Never the current login's business. */
static void on_left_disconnected(void *data, const struct worker_msg_disconnected *m)
{
	struct session *s = data;
	g_info("session: %s: the logged-out account %u is gone (%s)", s->jid, m->account,
	       m->text != NULL && m->text[0] != '\0' ? m->text : "logout");
	drop_left(s);
	messages_settle_left(s, m->account);
	left_gone(s);
}

/* What a logged-out account may still say: how far its messages went. */
static const struct worker_msg_handlers left_handlers = {
    .disconnected = on_left_disconnected,
    .im_result = messages_on_im_result,
    .ims_sent = messages_on_ims_sent,
    .im_progress = messages_on_im_progress,
};

void session_on_event(struct session *s, const struct legacy_event *event)
{
	guint32 account = legacy_event_account(event);
	if (account != 0 && account == s->left_account && account != s->account) {
		/* its status, contacts or sign-on are not the current login's */
		if (!legacy_event_dispatch(event, &left_handlers, s))
			g_debug("session: %s: ignoring %s from the logged-out account %u", s->jid,
			        legacy_event_name(event), account);
		return;
	}
	if (!legacy_event_dispatch(event, &session_handlers, s))
		g_debug("session: %s: ignoring legacy event %s", s->jid, legacy_event_name(event));
}
