/* session: one registered user's legacy login — which of their XMPP
 * resources are available and at what status, the login through the
 * legacy side, and retries with backoff after non-fatal losses. Sessions
 * are kept by bare JID and by legacy account id (struct sessions). */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/component.h"

#define RETRY_CAP_MS (5 * 60 * 1000)
#define LOST_WORKER_DELAY_MS 500
#define STALL_RETRY_MS 5000
/* How long an unregistration waits for the worker to confirm the lines it
 * had written (their PONG) before it goes on regardless. */
#define LEAVE_WAIT_SECONDS 10

struct sessions {
	const struct gateway_ctx *ctx;
	GHashTable *by_jid;     /* bare JID -> struct session * (owned) */
	GHashTable *by_account; /* legacy account id -> struct session * */
};

struct session {
	struct sessions *sessions;
	const struct gateway_ctx *ctx;
	char *jid; /* the user's bare JID */
	enum session_state state;
	struct resources *resources; /* the user's available resources (resources.c) */
	guint32 account;             /* legacy account id, 0 when none */
	/* the account last logged out, while the legacy side still reports on
	 * its messages (until its DISCONNECTED, LOGOUT): still in by_account */
	guint32 left_account;
	char *nick; /* our name on the legacy network once signed on */
	struct contacts *contacts;
	struct messages *messages;
	guint retry_timer;
	guint attempts;      /* consecutive failed logins */
	char *failure;       /* why the last login failed, for the user */
	guint32 sent_status; /* last status sent to the legacy side */
	char *sent_message;
	bool paced;        /* waiting in the login pacer for its turn */
	bool forgetting;   /* inside forget_account(): a loss there is no news */
	bool bare_cleared; /* the transport's unavailable from its bare JID was sent (status.c) */

	/* the user left with messages in flight: still logged in (see start_drain) */
	bool draining;
	guint drain_timer; /* ends the drain: its deadline, or at once once drained */

	/* an unregistration waiting for the worker's last word (session_unregister) */
	bool leaving;
	char *leaving_why;
	void (*leaving_done)(void *data);
	void *leaving_data;
	GDestroyNotify leaving_free;
	guint leaving_timer;
};

static void unpace(struct session *s)
{
	if (s->paced)
		logins_cancel(s->ctx->logins, s->jid);
	s->paced = false;
}

static void forget_account(struct session *s);

/* Stops listening to the logged-out account (its late word, if any more
 * comes, goes nowhere). */
static void drop_left(struct session *s)
{
	if (s->left_account == 0)
		return;
	g_hash_table_remove(s->sessions->by_account, GUINT_TO_POINTER(s->left_account));
	s->left_account = 0;
}

static void session_free(gpointer data)
{
	struct session *s = data;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	g_clear_handle_id(&s->leaving_timer, g_source_remove);
	s->draining = false;
	if (s->leaving_free != NULL) /* ferry stops first: the user stays registered */
		s->leaving_free(s->leaving_data);
	s->leaving_done = NULL;
	s->leaving_free = NULL;
	g_clear_pointer(&s->leaving_why, g_free);
	unpace(s);
	/* the last acknowledgements first (an outbox message they confirm is
	 * deleted, not sent again) */
	forget_account(s);
	drop_left(s); /* stopping: no late word is read any more */
	/* as session_logout(): what is still unacknowledged waits in the
	 * outbox for the next run instead of being forgotten */
	messages_requeue_inflight(s);
	resources_free(s->resources);
	contacts_free(s->contacts);
	messages_free(s->messages);
	g_free(s->nick);
	g_free(s->failure);
	g_free(s->sent_message);
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

bool session_user_available(const struct session *s)
{
	return resources_any(s->resources);
}

bool session_resource_available(const struct session *s, const char *full_jid)
{
	const char *slash = full_jid != NULL ? strchr(full_jid, '/') : NULL;
	return slash != NULL && resources_has(s->resources, slash + 1);
}

/* ---- draining: the user has gone, lines are still queued ----------------------------------
 *
 * When the last resource goes unavailable while messages are in flight
 * (a long message is still being paced out, line by line), the legacy
 * login stays until they are sent, so that nothing the user wrote is cut
 * off; bounded by the outbox's expiry, after which what is left is
 * reported (a chat message from the transport, which the server stores
 * for the offline user). A resource coming back ends the drain: the
 * session simply goes on. */

static gboolean drain_expired(gpointer data)
{
	struct session *s = data;
	s->drain_timer = 0;
	s->draining = false;
	g_warning("session: %s: messages still unsent %d s after the user left: reported", s->jid,
	          GATEWAY_OUTBOX_MAX_AGE_SECONDS);
	/* as an unregistration: the rest is cancelled, the worker says how
	 * far each message went, then the logout and the report */
	session_unregister(s, "it could not be sent within 15 minutes of your going offline", NULL,
	                   NULL, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean drain_done(gpointer data)
{
	struct session *s = data;
	s->drain_timer = 0;
	s->draining = false;
	g_info("session: %s: every message sent; logging out now", s->jid);
	session_logout(s, NULL);
	return G_SOURCE_REMOVE;
}

static void start_drain(struct session *s)
{
	g_info("session: %s: the user left with messages in flight: staying logged in until "
	       "they are sent",
	       s->jid);
	s->draining = true;
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	s->drain_timer = g_timeout_add_seconds(GATEWAY_OUTBOX_MAX_AGE_SECONDS, drain_expired, s);
}

static void stop_drain(struct session *s)
{
	s->draining = false;
	g_clear_handle_id(&s->drain_timer, g_source_remove);
}

static gboolean leave_now(gpointer data);

void session_drained(struct session *s)
{
	if (s->leaving) {
		g_clear_handle_id(&s->leaving_timer, g_source_remove);
		s->leaving_timer = g_idle_add(leave_now, s);
		return;
	}
	if (!s->draining || session_user_available(s))
		return;
	/* not from inside the event that told us: the logout reads the
	 * worker's acknowledgements, which dispatch events again */
	g_clear_handle_id(&s->drain_timer, g_source_remove);
	s->drain_timer = g_idle_add(drain_done, s);
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
			start_drain(s);
		else if (!session_user_available(s) && s->state != SESSION_OFFLINE)
			session_logout(s, NULL);
		else
			sync_status(s);
		return;
	}
	if (s->draining) {
		g_info("session: %s: back while messages were still going out", s->jid);
		stop_drain(s);
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

static void schedule_retry(struct session *s, guint delay_ms)
{
	g_clear_handle_id(&s->retry_timer, g_source_remove);
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

static void forget_account(struct session *s)
{
	if (s->account == 0)
		return;
	/* Logout first: the worker's last acknowledgements still reach this
	 * session (nothing it sent is requeued). The worker may die while
	 * they are read: session_on_lost() then only lets the account go,
	 * and the caller decides what comes next. */
	guint32 old = s->account;
	drop_left(s);
	s->forgetting = true;
	s->left_account = old; /* its last word may come inside the logout */
	legacy_logout(s->ctx->legacy, old);
	s->forgetting = false;
	s->account = 0;
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

void session_login(struct session *s)
{
	const struct gateway_ctx *ctx = s->ctx;
	g_clear_handle_id(&s->retry_timer, g_source_remove);
	forget_account(s);
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
		g_clear_pointer(&s->failure, g_free);
		signed_on(s, kept_nick);
		return;
	}
	if (!logins_admit(ctx->logins, s->jid)) {
		s->paced = true;
		g_debug("session: %s: waiting for a login slot (%u waiting)", s->jid,
		        logins_waiting(ctx->logins));
		enter_connecting(s);
		return;
	}
	start_login(s);
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
		s->attempts++;
		schedule_retry(s,
		               component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double()));
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
	stop_drain(s);
	unpace(s);
	if (s->account != 0)
		g_info("session: %s: logging out%s%s", s->jid, why != NULL ? ": " : "",
		       why != NULL ? why : "");
	forget_account(s);
	/* the logged-out account's messages wait for its last word */
	messages_requeue_inflight_but(s, s->left_account);
	contacts_all_offline(s);
	s->state = SESSION_OFFLINE;
	s->attempts = 0;
	g_clear_pointer(&s->nick, g_free);
	session_send_transport_presence(s, NULL);
}

static void finish_leaving(struct session *s, const char *why)
{
	/* logout first: the worker's last progress says how much of each
	 * message went; then every message is answered while the user's
	 * resources are still subscribed to hear it */
	forget_account(s);
	messages_fail_inflight(s, why);
	session_logout(s, NULL);
	messages_bounce_all(s, why);
}

static gboolean leave_now(gpointer data)
{
	struct session *s = data;
	s->leaving_timer = 0;
	g_autofree char *why = g_steal_pointer(&s->leaving_why);
	void (*done)(void *) = s->leaving_done;
	void *done_data = s->leaving_data;
	GDestroyNotify done_free = s->leaving_free;
	s->leaving = false;
	s->leaving_done = NULL;
	s->leaving_free = NULL;
	finish_leaving(s, why);
	if (done == NULL) {
		/* a drain that ran out of time: a user back meanwhile goes on */
		if (session_user_available(s))
			session_login(s);
		return G_SOURCE_REMOVE;
	}
	done(done_data); /* may free the session */
	if (done_free != NULL)
		done_free(done_data);
	return G_SOURCE_REMOVE;
}

bool session_leaving(const struct session *s)
{
	return s->leaving;
}

const char *session_leaving_why(const struct session *s)
{
	return s->leaving_why;
}

void session_unregister(struct session *s, const char *why, void (*done)(void *data), void *data,
                        GDestroyNotify free_data)
{
	/* Lines still queued in the worker are cancelled first, and the
	 * logout waits for the worker's word on each message (sent, or how
	 * far it went): a logout sent with the messages would close the IRC
	 * connection under lines just written, and the report could not say
	 * what went. */
	if (s->state == SESSION_ONLINE && messages_pending(s) &&
	    LEGACY_SEND(s->ctx->legacy, cancel_ims, .account = s->account)) {
		g_info("session: %s: unregistering: waiting for the worker's word on the messages "
		       "in flight",
		       s->jid);
		s->leaving = true;
		s->leaving_why = g_strdup(why);
		s->leaving_done = done;
		s->leaving_data = data;
		s->leaving_free = free_data;
		s->leaving_timer = g_timeout_add_seconds(LEAVE_WAIT_SECONDS, leave_now, s);
		return;
	}
	finish_leaving(s, why);
	if (done != NULL)
		done(data);
	if (free_data != NULL)
		free_data(data);
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

/* The user had gone, leaving lines to send, and the connection went: no
 * session will send the rest, so each message is answered now with how
 * much of it went (chat messages from the transport, kept offline). */
static void drain_cut(struct session *s, const char *what)
{
	g_info("session: %s: %s while the user's messages were still going out", s->jid, what);
	g_autofree char *why =
	    g_strdup_printf("%s while it was being sent, after you had gone offline", what);
	stop_drain(s);
	finish_leaving(s, why);
}

/* The account's worker died twice with its messages in flight, the
 * second time hosting it alone (workers.c): one of them kills workers.
 * Each is answered (none is sent again) and the account stays offline
 * until the user comes online anew or registers again, so that it cannot
 * take a shared worker down with it. */
static void quarantine(struct session *s, const char *text)
{
	const char *protocol = regform_protocol_name(s->ctx->form);
	g_warning("session: %s: quarantined: %s", s->jid, text);
	g_autofree char *why = g_strdup_printf("not sent: %s; it is not sent again", text);
	stop_drain(s);
	forget_account(s);
	messages_fail_inflight(s, why);
	messages_bounce_all(s, why);
	contacts_all_offline(s);
	g_autofree char *tell = g_strdup_printf(
	    "Your %s connection was stopped: %s, so the messages that were being sent were "
	    "returned to you. Your account stays offline until you come online again or "
	    "register again.",
	    protocol, text);
	out_tell_user(s->ctx->router, s->jid, tell);
	if (!session_user_available(s)) {
		session_logout(s, NULL);
		return;
	}
	s->state = SESSION_FAILED;
	g_free(s->failure);
	s->failure = g_strdup(text);
	session_send_transport_presence(s, NULL);
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
		}
		return;
	}
	if (m->reason == WORKER_REASON_CRASHED) {
		quarantine(s, m->text);
		return;
	}
	if (s->draining) {
		g_autofree char *what =
		    g_strdup_printf("the connection to %s was lost (%s)",
		                    regform_protocol_name(s->ctx->form), m->text);
		drain_cut(s, what);
		return;
	}
	forget_account(s);
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
		return;
	}
	s->attempts++;
	guint delay = component_backoff_ms(s->attempts, RETRY_CAP_MS, g_random_double());
	g_info("session: %s: disconnected (%s); retrying in %.1f s", s->jid, m->text,
	       delay / 1000.0);
	g_free(s->failure);
	s->failure = g_strdup(m->text);
	schedule_retry(s, delay);
}

void session_on_lost(struct session *s)
{
	g_hash_table_remove(s->sessions->by_account, GUINT_TO_POINTER(s->account));
	s->account = 0;
	if (s->draining && !s->forgetting) {
		drain_cut(s, "the transport's connection process for it stopped");
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
	schedule_retry(s, delay);
}

/* Reading stopped too long (backpressure): the legacy network would drop
 * the account unannounced (an IRC server after a couple of minutes without
 * a PONG). Logged out instead, with a notice the server keeps offline;
 * back when the link is (the probe at link up), or a moment later when
 * only this account's events were waiting. */
void session_on_stalled(struct session *s, bool link_down)
{
	const char *net = regform_protocol_name(s->ctx->form);
	g_autofree char *text = g_strdup_printf(
	    "%s: the transport left %s because %s for too long. Messages sent to you on %s "
	    "while it was waiting may be missing. It logs you in again %s.",
	    net, net,
	    link_down ? "its link to your XMPP server was down"
	              : "your XMPP server was not taking your messages",
	    net, link_down ? "when the link is back" : "in a moment");
	g_info("session: %s: logged out of %s after a stall (%s)", s->jid, net,
	       link_down ? "the XMPP link is down" : "its events were not taken");
	session_logout(s, "stalled");
	out_tell_user(s->ctx->router, s->jid, text);
	if (!link_down && session_user_available(s))
		schedule_retry(s, STALL_RETRY_MS + g_random_int_range(0, 1000));
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
};

void session_on_event(struct session *s, const struct legacy_event *event)
{
	if (!legacy_event_dispatch(event, &session_handlers, s))
		g_debug("session: %s: ignoring legacy event %s", s->jid, legacy_event_name(event));
}
