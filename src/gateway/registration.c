/* registration: jabber:iq:register (XEP-0077 with an XEP-0004 form, as
 * XEP-0100 uses it) and jabber:iq:gateway. Credentials are checked by one
 * test login through the legacy side before anything is stored; the
 * checked login is then kept (logins.c) for the session. */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "cmd.h"
#include "ferry/pacer.h"
#include "ferry/secrets.h"
#include "prompts.h"

/* Until prompts.c (B1) and chatbot.c (B2) are linked in: weak references,
 * ctx->prompts and ctx->chatbot are NULL then. */
#pragma weak chatbot_ask_prompt

struct registration {
	const struct gateway_ctx *ctx;
	GHashTable *pending;    /* account id -> struct pending * */
	GHashTable *waiting;    /* bare JID -> struct pending *: for the pacer's turn */
	struct ratelimit *rate; /* registrations per user ([limits]) */
	struct ratelimit *all;  /* registrations from everyone (one key) */
};

/* Users whose registration rates are remembered at once: a flood of
 * registering strangers beyond it is refused (resource-constraint). */
#define REGISTRATION_RATE_KEYS 4096

/* A registration waiting for its test login (ACCOUNT 0: for its turn). */
struct pending {
	struct registration *reg;
	guint32 account;
	const struct registration_requester *req; /* told the outcome; NULL once told */
	void *req_data;
	char *jid; /* the user's bare JID */
	GHashTable *settings;
	char *password; /* wiped on free */
	guint timer;
	char *wanted; /* NAME_FALLBACK: the name asked for, refused by the network */
};

static void pending_free(struct pending *p)
{
	g_clear_handle_id(&p->timer, g_source_remove);
	const struct gateway_ctx *ctx = p->reg->ctx;
	if (p->account != 0 && ctx->prompts != NULL)
		prompts_unclaim(ctx->prompts, p->account);
	g_free(p->jid);
	g_hash_table_unref(p->settings);
	secrets_wipe_free(p->password);
	g_free(p->wanted);
	g_free(p);
}

/* Tells P's requester the outcome (once). */
static void finish(struct pending *p, bool ok, const char *nick, const char *condition,
                   const char *text)
{
	const struct registration_requester *req = p->req;
	p->req = NULL;
	if (req != NULL)
		req->done(p->req_data, ok, nick, condition, text);
}

/* Forgets P; when LOGOUT, logs its test account out too. */
static void pending_end(struct pending *p, bool logout)
{
	struct registration *reg = p->reg;
	if (p->account == 0) {
		g_hash_table_remove(reg->waiting, p->jid);
		logins_cancel_check(reg->ctx->logins, p->jid);
		pending_free(p);
		return;
	}
	g_hash_table_remove(reg->pending, GUINT_TO_POINTER(p->account));
	if (logout)
		legacy_logout(reg->ctx->legacy, p->account);
	pending_free(p);
}

const struct gateway_ctx *registration_ctx(const struct registration *reg)
{
	return reg->ctx;
}

bool registration_owns(const struct registration *reg, guint32 account)
{
	return g_hash_table_contains(reg->pending, GUINT_TO_POINTER(account));
}

bool registration_take_pin(struct registration *reg, guint32 account, const char *pin)
{
	struct pending *p =
	    reg != NULL ? g_hash_table_lookup(reg->pending, GUINT_TO_POINTER(account)) : NULL;
	if (p == NULL)
		return false;
	prompts_pins_add(p->settings, pin);
	g_message("registration: %s: a certificate pinned with the registration", p->jid);
	return true;
}

bool registration_is_registered(const struct gateway_ctx *ctx, const char *bare,
                                GHashTable **settings)
{
	g_autoptr(GError) err = NULL;
	GHashTable *stored = storage_user_settings(ctx->storage, bare, &err);
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

/* Stores P's checked settings and answers its request: the result, or an
 * internal-server-error when they could not be stored (false). */
static bool store_and_answer(struct pending *p, const char *nick)
{
	const struct gateway_ctx *ctx = p->reg->ctx;
	g_autoptr(GError) err = NULL;
	GHashTable *stored = NULL;
	if (registration_is_registered(ctx, p->jid, &stored)) {
		/* ferry's preferences (the settings command) are no form field */
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, stored);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (g_str_has_prefix(k, CMDS_PREF_PREFIX) &&
			    !g_hash_table_contains(p->settings, k))
				g_hash_table_insert(p->settings, g_strdup(k), g_strdup(v));
		g_hash_table_unref(stored);
	}
	if (!storage_user_put(ctx->storage, p->jid, p->settings, p->password, &err)) {
		g_warning("registration: cannot store %s: %s", p->jid, err->message);
		finish(p, false, NULL, "internal-server-error",
		       "the registration could not be stored");
		return false;
	}
	finish(p, true, nick, NULL, NULL);
	return true;
}

/* Stores the checked registration, answers, and keeps its login for the
 * session; false if it could not be stored. */
static bool registration_done(struct pending *p, const char *nick)
{
	const struct gateway_ctx *ctx = p->reg->ctx;
	bool existed = registration_is_registered(ctx, p->jid, NULL);
	if (!store_and_answer(p, nick))
		return false;
	g_message("registration: %s %s", p->jid, existed ? "updated" : "registered");
	logins_keep(ctx->logins, p->account, p->jid, nick);
	if (!existed) {
		/* Ask to be in the user's roster (XEP-0100 §4.1.1): the server's
		 * answer, and the user's presence, start the session. */
		out_subscribe(ctx->router, NULL, p->jid, ctx->settings->legacy_name, NULL);
		return true;
	}
	struct session *s = sessions_get(ctx->sessions, p->jid, false);
	if (s != NULL && session_user_available(s))
		session_login(s); /* new credentials take effect now */
	return true;
}

static void on_name_fallback(void *data, const struct worker_msg_name_fallback *m)
{
	struct pending *p = data;
	g_free(p->wanted);
	p->wanted = g_strdup(m->wanted);
}

/* The user's own login holds NAME on the network P checks: their session,
 * or the check login an earlier registration left for it, under the same
 * legacy account name as P's (same nick, same server). Legacy names
 * compare without case (IRC nicks do). */
static bool holds_name(const struct pending *p, const char *name)
{
	const struct gateway_ctx *ctx = p->reg->ctx;
	struct session *s = sessions_get(ctx->sessions, p->jid, false);
	/* Only a session signed on holds its nick: a reconnecting one's is
	 * the nick it had, which someone else may have taken since. */
	const char *nick = s != NULL && session_state(s) == SESSION_ONLINE ? session_nick(s) : NULL;
	if (nick == NULL)
		nick = logins_kept_nick(ctx->logins, p->jid);
	if (nick == NULL || g_ascii_strcasecmp(nick, name) != 0)
		return false;
	GHashTable *stored = NULL;
	if (!registration_is_registered(ctx, p->jid, &stored))
		return false;
	g_autofree char *now = regform_legacy_username(ctx->form, stored);
	g_autofree char *asked = regform_legacy_username(ctx->form, p->settings);
	g_hash_table_unref(stored);
	return g_ascii_strcasecmp(now, asked) == 0;
}

/* The check login signed on under another name than the one asked for.
 * If the user's own login holds that name, the check is as good as passed
 * (same network, credentials accepted): the settings are stored and that
 * login goes on, as nothing in it needs to change for the name. Otherwise
 * someone else has it: refused, rather than a silent "bob1". */
static void name_taken(struct pending *p, const char *given)
{
	const struct gateway_ctx *ctx = p->reg->ctx;
	const char *network = regform_protocol_name(ctx->form);
	bool own = holds_name(p, p->wanted); /* before the logout, which may end a worker */
	legacy_logout(ctx->legacy, p->account);
	if (!own && address_name_shortened(p->wanted, given)) {
		g_info("registration: %s: %s is too long for %s (cut to %s)", p->jid, p->wanted,
		       network, given);
		g_autofree char *why = g_strdup_printf(
		    "the nick %s is longer than %s allows (it keeps %zu characters: %s); choose "
		    "a shorter one",
		    p->wanted, network, strlen(given), given);
		finish(p, false, NULL, "not-acceptable", why);
		return;
	}
	if (!own) {
		g_info("registration: %s: %s is taken on %s (offered %s)", p->jid, p->wanted,
		       network, given);
		g_autofree char *why = g_strdup_printf("the nick %s is taken on %s; choose another",
		                                       p->wanted, network);
		finish(p, false, NULL, "conflict", why);
		return;
	}
	if (!store_and_answer(p, p->wanted))
		return;
	g_message("registration: %s updated; its login as %s goes on", p->jid, p->wanted);
	g_autofree char *note = g_strdup_printf(
	    "Your registration is saved. Your %s session as %s goes on; changed settings "
	    "take effect the next time you log in.",
	    network, p->wanted);
	out_tell_user(ctx->router, p->jid, note);
}

static void on_connected(void *data, const struct worker_msg_connected *m)
{
	struct pending *p = data;
	if (p->wanted != NULL) {
		g_hash_table_steal(p->reg->pending, GUINT_TO_POINTER(p->account));
		name_taken(p, m->nick);
		pending_free(p);
		return;
	}
	/* Out of the table first: storing and the session's new login may log
	 * other accounts out, which can end a worker and report this account
	 * lost while we are here; it is the kept login's by then. On success
	 * the check login lives on (kept) as the session about to start: it is
	 * not logged out. */
	g_hash_table_steal(p->reg->pending, GUINT_TO_POINTER(p->account));
	if (!registration_done(p, m->nick))
		legacy_logout(p->reg->ctx->legacy, p->account);
	pending_free(p);
}

static void on_disconnected(void *data, const struct worker_msg_disconnected *m)
{
	struct pending *p = data;
	const struct gateway_ctx *ctx = p->reg->ctx;
	g_info("registration: %s: test login failed: %s", p->jid, m->text);
	g_autofree char *why =
	    g_strdup_printf("%s login failed: %s", regform_protocol_name(ctx->form), m->text);
	finish(p, false, NULL,
	       m->reason == WORKER_REASON_AUTH ? "not-authorized" : "not-acceptable", why);
	pending_end(p, true);
}

/* A test login reports nothing but its sign-on (with the name it got) or
 * its end. */
static const struct worker_msg_handlers test_login_handlers = {
    .connected = on_connected,
    .name_fallback = on_name_fallback,
    .disconnected = on_disconnected,
};

void registration_on_event(struct registration *reg, guint32 account,
                           const struct legacy_event *event)
{
	struct pending *p = g_hash_table_lookup(reg->pending, GUINT_TO_POINTER(account));
	if (p != NULL)
		(void)legacy_event_dispatch(event, &test_login_handlers, p);
}

void registration_on_lost(struct registration *reg, guint32 account)
{
	struct pending *p = g_hash_table_lookup(reg->pending, GUINT_TO_POINTER(account));
	if (p == NULL)
		return;
	finish(p, false, NULL, "internal-server-error",
	       "the login check was interrupted; please try again");
	pending_end(p, false);
}

static gboolean test_timeout(gpointer data)
{
	struct pending *p = data;
	p->timer = 0;
	const struct gateway_ctx *ctx = p->reg->ctx;
	g_autofree char *why =
	    p->account == 0
	        ? g_strdup_printf("the transport had no free login slot within %d s (many users "
	                          "are logging in); try again in a minute",
	                          GATEWAY_TEST_LOGIN_SECONDS)
	        : g_strdup_printf("no answer from %s within %d s", regform_protocol_name(ctx->form),
	                          GATEWAY_TEST_LOGIN_SECONDS);
	finish(p, false, NULL, "remote-server-timeout", why);
	pending_end(p, true);
	return G_SOURCE_REMOVE;
}

/* The check login raised PROMPT: the requester shows it (the register
 * command's next stage) or the chat bot asks it. The check waits for the
 * user's answer, not 45 s. */
static void on_check_prompt(void *data, struct prompt *prompt)
{
	struct pending *p = data;
	const struct gateway_ctx *ctx = p->reg->ctx;
	g_clear_handle_id(&p->timer, g_source_remove);
	p->timer = g_timeout_add_seconds(ctx->settings->prompt_seconds + GATEWAY_TEST_LOGIN_SECONDS,
	                                 test_timeout, p);
	bool shown =
	    p->req != NULL && p->req->prompt != NULL && p->req->prompt(p->req_data, prompt);
	if (!shown && ctx->chatbot != NULL && chatbot_ask_prompt != NULL)
		chatbot_ask_prompt(ctx->chatbot, p->jid, prompt);
}

static bool pending_for(const struct registration *reg, const char *bare)
{
	if (g_hash_table_contains(reg->waiting, bare))
		return true;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, reg->pending);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (strcmp(((struct pending *)value)->jid, bare) == 0)
			return true;
	return false;
}

/* ---- jabber:iq:register ------------------------------------------------------------------ */

static void answer_get(struct registration *reg, const struct stanza *iq, const char *bare)
{
	const struct gateway_ctx *ctx = reg->ctx;
	GHashTable *values = NULL;
	bool registered = registration_is_registered(ctx, bare, &values);
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(reply, "query", NS_REGISTER);
	if (registered)
		stanza_add_child(q, "registered", NULL);
	regform_fill_query(ctx->form, q, values);
	if (values != NULL)
		g_hash_table_unref(values);
	router_send(ctx->router, reply);
}

/* The <remove/> iq's end: answered as before (a result, or an error). */
struct remove_iq {
	const struct gateway_ctx *ctx;
	struct stanza *iq;
};

static void remove_iq_done(void *data, bool ok, const char *text)
{
	struct remove_iq *r = data;
	if (ok)
		router_send_result(r->ctx->router, r->iq);
	else if (g_strcmp0(text, "you are not registered") == 0)
		router_send_error(r->ctx->router, r->iq, "registration-required", text);
	else if (g_strcmp0(text, "an unregistration is already under way") == 0)
		router_send_error(r->ctx->router, r->iq, "unexpected-request", text);
	else
		router_send_error(r->ctx->router, r->iq, "internal-server-error", text);
	stanza_free(r->iq);
	g_free(r);
}

static void unregister(struct registration *reg, const struct stanza *iq, const char *bare)
{
	struct remove_iq *r = g_new0(struct remove_iq, 1);
	r->ctx = reg->ctx;
	r->iq = stanza_copy(iq);
	registration_unregister(reg, bare, remove_iq_done, r);
}

/* Starts P's test login (its turn has come); on failure P is answered
 * and freed. */
static void start_check(struct pending *p)
{
	struct registration *reg = p->reg;
	const struct gateway_ctx *ctx = reg->ctx;
	g_autofree char *username = regform_legacy_username(ctx->form, p->settings);
	g_autoptr(GHashTable) options = regform_account_options(ctx->form, p->settings);
	prompts_login_options(p->settings, options); /* pinned certificates */
	g_autoptr(GError) err = NULL;
	const struct worker_msg_login login = {
	    .protocol = regform_protocol(ctx->form),
	    .username = username,
	    .password = p->password,
	    .options = options,
	    .flags = WORKER_LOGIN_TEST,
	};
	guint32 account = legacy_login(ctx->legacy, &login, &err);
	if (account == 0) {
		g_warning("registration: %s: cannot start a test login: %s", p->jid, err->message);
		finish(p, false, NULL, "internal-server-error",
		       "the transport cannot log in right now");
		pending_free(p);
		return;
	}
	p->account = account;
	g_hash_table_insert(reg->pending, GUINT_TO_POINTER(account), p);
	if (ctx->prompts != NULL)
		prompts_claim(ctx->prompts, account, on_check_prompt, p);
	g_info("registration: %s: checking %s credentials for %s", p->jid,
	       regform_protocol(ctx->form), username);
}

/* The refusal of BARE: over PER_MINUTE registrations a minute from WHOM
 * ("all users together", "one user"), to wait WAIT_US. Caller frees. */
static char *refuse_rate(struct registration *reg, const char *bare, guint per_minute,
                         const char *whom, gint64 wait_us)
{
	const struct gateway_ctx *ctx = reg->ctx;
	gint64 wait_s = (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
	g_info("registration: %s: over %u registrations a minute from %s; refused", bare,
	       per_minute, whom);
	return g_strdup_printf(
	    "too many registrations: the transport takes %u a minute from %s (each is a login "
	    "to %s); try again in %" G_GINT64_FORMAT " s",
	    per_minute, whom, regform_protocol_name(ctx->form), MAX(wait_s, 1));
}

/* true when BARE may start another registration now ([limits]
 * registrations_per_minute); otherwise *TEXT says when to try again. Each
 * is a login to the legacy network, which throttles or bans a host that
 * connects too often. */
static bool rate_allows(struct registration *reg, const char *bare, char **text)
{
	const struct gateway_ctx *ctx = reg->ctx;
	gint64 now = g_get_monotonic_time();
	gint64 all_wait = ratelimit_wait_us(reg->all, "", now);
	if (all_wait > 0) {
		/* [limits] registrations_all_per_minute: each is a login to the
		 * legacy network, and many JIDs within their own rate would
		 * otherwise fill the check lane without bound */
		*text = refuse_rate(reg, bare, ctx->settings->registrations_all_per_minute,
		                    "all users together", all_wait);
		return false;
	}
	if (ratelimit_take(reg->rate, bare, now)) {
		(void)ratelimit_take(reg->all, "", now); /* a token is there: checked above */
		return true;
	}
	*text = refuse_rate(reg, bare, ctx->settings->registrations_per_minute, "one user",
	                    ratelimit_wait_us(reg->rate, bare, now));
	return false;
}

bool registration_check(struct registration *reg, const char *bare, GHashTable *settings,
                        const char *password, const struct registration_requester *req, void *data,
                        const char **condition, char **text)
{
	const struct gateway_ctx *ctx = reg->ctx;
	if (pending_for(reg, bare)) {
		*condition = "conflict";
		*text = g_strdup("a registration of yours is already being checked");
		return false;
	}
	if (!rate_allows(reg, bare, text)) {
		*condition = "resource-constraint";
		return false;
	}
	struct storage_user *stored = NULL;
	if (password == NULL) {
		/* keep the stored password (the register command left it empty) */
		stored = storage_user_get(ctx->storage, bare, NULL);
	}
	struct pending *p = g_new0(struct pending, 1);
	p->reg = reg;
	p->req = req;
	p->req_data = data;
	p->jid = g_strdup(bare);
	p->settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, settings);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_replace(p->settings, g_strdup(k), g_strdup(v));
	p->password = g_strdup(password != NULL ? password
	                       : stored != NULL ? stored->password
	                                        : "");
	storage_user_free(stored);
	/* from the request on: the wait for the pacer's turn counts */
	p->timer = g_timeout_add_seconds(GATEWAY_TEST_LOGIN_SECONDS, test_timeout, p);
	if (logins_admit_check(ctx->logins, bare)) {
		start_check(p);
		return true;
	}
	g_debug("registration: %s: waiting for a login slot", bare);
	g_hash_table_insert(reg->waiting, p->jid, p);
	return true;
}

void registration_abandon(struct registration *reg, const char *bare, void *data)
{
	struct pending *p = g_hash_table_lookup(reg->waiting, bare);
	if (p == NULL || p->req_data != data) {
		p = NULL;
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, reg->pending);
		while (p == NULL && g_hash_table_iter_next(&it, NULL, &value)) {
			struct pending *q = value;
			if (strcmp(q->jid, bare) == 0 && q->req_data == data)
				p = q;
		}
	}
	if (p == NULL)
		return;
	g_info("registration: %s: the check was abandoned", bare);
	p->req = NULL;
	pending_end(p, true);
}

const char *registration_account_user(const struct registration *reg, guint32 account)
{
	const struct pending *p = g_hash_table_lookup(reg->pending, GUINT_TO_POINTER(account));
	return p != NULL ? p->jid : NULL;
}

/* ---- the XEP-0077 requester ------------------------------------------------------------ */

/* How long a registration iq waits for a prompt of its check login to be
 * answered in the chat before it is answered with where to go. */
#define REGISTRATION_PROMPT_HOLD_SECONDS 30

struct iq_requester {
	const struct gateway_ctx *ctx;
	struct stanza *iq;
	guint hold;
	bool answered;
};

static void iq_requester_answer(struct iq_requester *r, bool ok, const char *condition,
                                const char *text)
{
	if (r->answered)
		return;
	r->answered = true;
	if (ok)
		router_send_result(r->ctx->router, r->iq);
	else
		router_send_error(r->ctx->router, r->iq, condition, text);
}

static gboolean iq_requester_hold_cb(gpointer data)
{
	struct iq_requester *r = data;
	r->hold = 0;
	/* not-acceptable: what Gajim and Psi show with its text */
	iq_requester_answer(r, false, "not-acceptable",
	                    "the transport asks you a question in a chat message: answer it "
	                    "there, and the registration completes");
	return G_SOURCE_REMOVE;
}

static bool iq_requester_prompt(void *data, struct prompt *prompt)
{
	struct iq_requester *r = data;
	(void)prompt;
	if (r->hold == 0 && !r->answered)
		r->hold = g_timeout_add_seconds(REGISTRATION_PROMPT_HOLD_SECONDS,
		                                iq_requester_hold_cb, r);
	return false; /* the chat bot asks it */
}

static void iq_requester_done(void *data, bool ok, const char *nick, const char *condition,
                              const char *text)
{
	struct iq_requester *r = data;
	(void)nick;
	iq_requester_answer(r, ok, condition, text);
	g_clear_handle_id(&r->hold, g_source_remove);
	stanza_free(r->iq);
	g_free(r);
}

static const struct registration_requester iq_requester = {iq_requester_prompt, iq_requester_done};

static void answer_set(struct registration *reg, const struct stanza *iq, const char *bare)
{
	const struct gateway_ctx *ctx = reg->ctx;
	const struct stanza *q = stanza_find_child(iq, "query", NS_REGISTER);
	if (q == NULL) {
		/* the router chose us by the namespace of another element */
		router_send_error(ctx->router, iq, "bad-request",
		                  "a registration is a <query xmlns='" NS_REGISTER "'/>");
		return;
	}
	if (stanza_find_child(q, "remove", NULL) != NULL) {
		if (stanza_child_count(q) != 1)
			router_send_error(ctx->router, iq, "bad-request",
			                  "<remove/> must come alone");
		else
			unregister(reg, iq, bare);
		return;
	}
	GHashTable *settings = NULL;
	char *password = NULL;
	g_autoptr(GError) problem = NULL;
	if (!regform_parse(ctx->form, q, &settings, &password, &problem)) {
		router_send_error(ctx->router, iq, "not-acceptable", problem->message);
		return;
	}
	struct iq_requester *r = g_new0(struct iq_requester, 1);
	r->ctx = ctx;
	r->iq = stanza_copy(iq);
	const char *condition = NULL;
	g_autofree char *text = NULL;
	if (!registration_check(reg, bare, settings, password, &iq_requester, r, &condition,
	                        &text)) {
		router_send_error(ctx->router, iq, condition, text);
		stanza_free(r->iq);
		g_free(r);
	}
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
}

void registration_login_ready(struct registration *reg, const char *bare_jid)
{
	struct pending *p = g_hash_table_lookup(reg->waiting, bare_jid);
	if (p == NULL)
		return;
	g_hash_table_steal(reg->waiting, bare_jid);
	start_check(p);
}

static enum router_result on_register(struct router *r, const struct stanza *iq, void *data)
{
	struct registration *reg = data;
	if (!router_to_transport(r, iq))
		return ROUTER_PASS;
	struct jid *from = address_check_sender(reg->ctx->address, r, iq);
	if (from == NULL)
		return ROUTER_HANDLED;
	if (g_strcmp0(stanza_get_type(iq), "get") == 0)
		answer_get(reg, iq, jid_bare(from));
	else
		answer_set(reg, iq, jid_bare(from));
	jid_free(from);
	return ROUTER_HANDLED;
}

/* ---- jabber:iq:gateway (XEP-0100 §6.3) ----------------------------------------------------- */

static enum router_result on_gateway(struct router *r, const struct stanza *iq, void *data)
{
	struct registration *reg = data;
	const struct gateway_ctx *ctx = reg->ctx;
	if (!router_to_transport(r, iq))
		return ROUTER_PASS;
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(reply, "query", NS_GATEWAY);
	if (g_strcmp0(stanza_get_type(iq), "get") == 0) {
		g_autofree char *desc = g_strdup_printf("Enter the %s name of the contact to add.",
		                                        regform_protocol_name(ctx->form));
		stanza_add_text_child(q, "desc", desc);
		stanza_add_text_child(q, "prompt", "Contact ID");
		router_send(r, reply);
		return ROUTER_HANDLED;
	}
	g_autofree char *prompt =
	    stanza_get_child_text(stanza_find_child(iq, "query", NS_GATEWAY), "prompt", NULL);
	g_autofree char *jid =
	    prompt != NULL ? address_contact_jid(ctx->address, g_strstrip(prompt)) : NULL;
	if (jid == NULL) {
		stanza_free(reply);
		router_send_error(r, iq, "not-acceptable",
		                  "that is not a legacy name a JID can carry");
		return ROUTER_HANDLED;
	}
	stanza_add_text_child(q, "jid", jid);
	router_send(r, reply);
	return ROUTER_HANDLED;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

struct registration *registration_new(const struct gateway_ctx *ctx)
{
	struct registration *reg = g_new0(struct registration, 1);
	reg->ctx = ctx;
	reg->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
	reg->waiting = g_hash_table_new(g_str_hash, g_str_equal);
	guint per_minute = ctx->settings->registrations_per_minute;
	reg->rate = ratelimit_new(per_minute, per_minute / 60.0, REGISTRATION_RATE_KEYS);
	guint all = ctx->settings->registrations_all_per_minute;
	reg->all = ratelimit_new(all, all / 60.0, 1);
	router_add_iq_handler(ctx->router, NS_REGISTER, on_register, reg);
	router_add_iq_handler(ctx->router, NS_GATEWAY, on_gateway, reg);
	disco_add_feature(ctx->disco, NS_REGISTER);
	disco_add_feature(ctx->disco, NS_GATEWAY);
	return reg;
}

void registration_cancel_all(struct registration *reg)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, reg->pending);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct pending *p = value;
		finish(p, false, NULL, "service-unavailable", "the transport is shutting down");
		pending_free(p);
	}
	g_hash_table_remove_all(reg->pending);
	g_hash_table_iter_init(&it, reg->waiting);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct pending *p = value;
		finish(p, false, NULL, "service-unavailable", "the transport is shutting down");
		logins_cancel_check(reg->ctx->logins, p->jid);
		g_hash_table_iter_remove(&it);
		pending_free(p);
	}
}

void registration_free(struct registration *reg)
{
	if (reg == NULL)
		return;
	registration_cancel_all(reg);
	g_hash_table_unref(reg->pending);
	g_hash_table_unref(reg->waiting);
	ratelimit_free(reg->rate);
	ratelimit_free(reg->all);
	g_free(reg);
}
