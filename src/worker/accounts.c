/* accounts: the legacy accounts ferry asked this worker to run: the
 * registry of ids, their lifecycle, and the acknowledgements of what they
 * sent (the commands themselves are commands.c's).
 *
 * ferry names accounts by id; each live id maps to one PurpleAccount whose
 * ui_data points back at its struct account. An account ends exactly once
 * (account_fail): DISCONNECTED goes up, ui_data is cleared so libpurple's
 * late callbacks find nothing, the id is free again at once, and the
 * PurpleAccount is destroyed from an idle callback, never from inside the
 * libpurple callback that reported the end (style.md rule 6). */
#include "config.h"
#include "worker.h"

#include <string.h>

enum account_state {
	ACCOUNT_CONNECTING, /* LOGIN received, not signed on yet */
	ACCOUNT_ONLINE,     /* signed on */
	ACCOUNT_DEAD,       /* DISCONNECTED sent; waiting to be destroyed */
};

struct account {
	guint32 id;               /* ferry's account id */
	guint32 flags;            /* WORKER_LOGIN_* */
	PurpleAccount *pa;        /* owned: destroyed in account_destroy() */
	enum account_state state; /* see above */
	guint login_timer;        /* sign-on deadline, 0 once signed on */
	GHashTable *presence;     /* buddy name -> summary of the last BUDDY_STATUS sent */
	guint32 sent_through;     /* highest IM seq handed to the network */
	bool ack_due;             /* SENT_THROUGH not yet reported (IMS_SENT) */
	GQueue held;              /* a test login's frames for KEEP (GBytes), oldest first */
	gsize held_bytes;         /* their total size */
	guint held_dropped;       /* frames that did not fit */
	char *complaint;          /* what the network said against our login, or NULL */
	struct sendq *sendq;      /* paced lines (prpl-irc), NULL elsewhere; owned */
	guint prompts;            /* its prompts open (prompts.c) */
	bool link_known;          /* LINK_INFO sent for its TLS link (certs.c) */
};

/* What a test login may hold for KEEP: a registration's login is kept for
 * at most a minute (logins.c), so this only bounds a flood. */
#define HELD_MAX_FRAMES 200
#define HELD_MAX_BYTES (256 * 1024)

static GHashTable *by_id;     /* id -> live struct account (owned) */
static GPtrArray *dying;      /* dead accounts awaiting account_destroy() */
static guint destroy_idle;    /* source that destroys DYING */
static guint login_timeout;   /* seconds */
static guint placeholder_seq; /* for duplicate usernames, see create_purple_account() */
static GArray *acks_due;      /* guint32 ids of accounts with ack_due */

guint32 account_id(const struct account *account)
{
	return account->id;
}

PurpleAccount *account_purple(const struct account *account)
{
	return account->pa;
}

bool account_is_test(const struct account *account)
{
	return (account->flags & WORKER_LOGIN_TEST) != 0;
}

bool account_keep(struct account *account)
{
	if (!account_is_test(account))
		return false;
	account->flags &= ~(guint32)WORKER_LOGIN_TEST;
	/* What arrived meanwhile goes first, in order. */
	GBytes *frame;
	while ((frame = g_queue_pop_head(&account->held)) != NULL)
		channel_send(frame);
	account->held_bytes = 0;
	if (account->held_dropped > 0) {
		g_autofree char *text = g_strdup_printf(
		    "%u events (messages among them) that arrived before your session started "
		    "were too many to keep and are lost",
		    account->held_dropped);
		g_warning("account %u: %u held events were dropped", account->id,
		          account->held_dropped);
		channel_send(WORKER_FRAME(notice, .account = account->id, .title = "Messages lost",
		                          .text = text));
		account->held_dropped = 0;
	}
	return true;
}

struct sendq *account_sendq(const struct account *account)
{
	return account->sendq;
}

void account_set_sendq(struct account *account, struct sendq *q)
{
	sendq_free(account->sendq);
	account->sendq = q;
}

bool account_is_signing_on(const struct account *account)
{
	return account->state == ACCOUNT_CONNECTING;
}

void account_set_complaint(struct account *account, const char *text)
{
	g_free(account->complaint);
	account->complaint = g_strdup(text);
}

const char *account_complaint(const struct account *account)
{
	return account->complaint;
}

static void held_clear(struct account *account)
{
	/* a check login ended without KEEP: what it held goes with it (ferry
	 * sends KEEP first when one expires unused, so this is a failed check
	 * or a shutdown) */
	if (account->held.length > 0)
		g_message("account %u: %u events held for the user's session are dropped with the "
		          "login",
		          account->id, account->held.length);
	g_queue_clear_full(&account->held, (GDestroyNotify)g_bytes_unref);
	account->held_bytes = 0;
}

bool account_is_connected(const struct account *account)
{
	PurpleConnection *gc = purple_account_get_connection(account->pa);
	return gc != NULL && purple_connection_get_state(gc) == PURPLE_CONNECTED;
}

struct account *accounts_find(PurpleAccount *pa)
{
	if (pa == NULL)
		return NULL;
	struct account *account = pa->ui_data;
	return account != NULL && account->state != ACCOUNT_DEAD ? account : NULL;
}

struct account *accounts_lookup(guint32 id)
{
	return g_hash_table_lookup(by_id, GUINT_TO_POINTER(id));
}

void account_emit(struct account *account, GBytes *frame)
{
	if (frame == NULL)
		return; /* over the frame limit, or a programming error: logged */
	guint32 type = worker_frame_type(frame);
	/* prompts are answered during the check (a login code), never held */
	if (!account_is_test(account) || type == WORKER_CONNECTED || type == WORKER_DISCONNECTED ||
	    type == WORKER_NAME_FALLBACK || type == WORKER_PROMPT || type == WORKER_PROMPT_CLOSED ||
	    type == WORKER_PROMPT_ERROR || type == WORKER_LINK_INFO) {
		channel_send(frame);
		return;
	}
	/* A test login's messages wait for KEEP: the registration's session
	 * takes the login over and must not lose what was said to the new
	 * nick meanwhile. Buddies are reported anew at KEEP; the rest (typing)
	 * is stale by then. */
	bool keep =
	    type == WORKER_IM_RECEIVED || type == WORKER_NOTICE || type == WORKER_AUTH_REQUEST;
	if (!keep) {
		g_bytes_unref(frame);
		return;
	}
	gsize size = g_bytes_get_size(frame);
	if (account->held.length >= HELD_MAX_FRAMES ||
	    account->held_bytes + size > HELD_MAX_BYTES) {
		account->held_dropped++;
		g_bytes_unref(frame);
		return;
	}
	account->held_bytes += size;
	g_queue_push_tail(&account->held, frame);
}

bool account_presence_update(struct account *account, const char *name, const char *state)
{
	if (g_strcmp0(g_hash_table_lookup(account->presence, name), state) == 0)
		return false;
	g_hash_table_insert(account->presence, g_strdup(name), g_strdup(state));
	return true;
}

void account_presence_forget(struct account *account, const char *name)
{
	g_hash_table_remove(account->presence, name);
}

/* ---- successful sends, reported together (WORKER_IMS_SENT) ----------------- */

static void ack_now(struct account *account)
{
	if (!account->ack_due)
		return;
	account->ack_due = false;
	channel_send(
	    WORKER_FRAME(ims_sent, .account = account->id, .through = account->sent_through));
}

void accounts_send_acks(void)
{
	if (acks_due == NULL)
		return;
	for (guint i = 0; i < acks_due->len; i++) {
		struct account *account = g_hash_table_lookup(
		    by_id, GUINT_TO_POINTER(g_array_index(acks_due, guint32, i)));
		if (account != NULL)
			ack_now(account);
	}
	g_array_set_size(acks_due, 0);
}

void account_sent(struct account *account, guint32 seq)
{
	account->sent_through = seq;
	if (!account->ack_due) {
		account->ack_due = true;
		g_array_append_val(acks_due, account->id);
	}
}

/* ---- ending an account ------------------------------------------------------ */

/* Destroys a dead account's PurpleAccount: connection, buddies,
 * conversations, pending requests. Runs outside libpurple callbacks. */
static void account_destroy(struct account *account)
{
	PurpleAccount *pa = account->pa;
	if (pa->password != NULL)
		memset(pa->password, 0, strlen(pa->password));
	PurpleConnection *gc = purple_account_get_connection(pa);
	if (gc != NULL && gc->password != NULL)
		memset(gc->password, 0, strlen(gc->password));
	/* purple_accounts_delete only disables the account, and disabling does
	 * nothing while a fatal error's disconnect is pending (wants_to_die):
	 * the account would be freed under that pending callback. */
	if (!purple_account_is_disconnected(pa))
		purple_account_disconnect(pa);
	purple_accounts_delete(pa);
	g_hash_table_destroy(account->presence);
	held_clear(account);
	g_free(account->complaint);
	g_free(account);
}

static gboolean destroy_dying(gpointer user_data)
{
	destroy_idle = 0;
	/* account_destroy can make libpurple end other accounts: take the
	 * batch first */
	GPtrArray *batch = dying;
	dying = g_ptr_array_new();
	for (guint i = 0; i < batch->len; i++)
		account_destroy(g_ptr_array_index(batch, i));
	g_ptr_array_free(batch, TRUE);
	core_trim_later();
	return G_SOURCE_REMOVE;
}

/* Detaches ACCOUNT from ferry's id and from libpurple's callbacks and
 * queues its destruction. */
static void account_kill(struct account *account)
{
	account->state = ACCOUNT_DEAD;
	chats_account_gone(account->id);
	certs_account_gone(account->id);
	g_free(prompts_take_refusal(account->id));
	g_clear_pointer(&account->sendq, sendq_free);
	account->pa->ui_data = NULL;
	held_clear(account);
	g_clear_handle_id(&account->login_timer, g_source_remove);
	if (g_hash_table_lookup(by_id, GUINT_TO_POINTER(account->id)) == account)
		g_hash_table_steal(by_id, GUINT_TO_POINTER(account->id));
	g_ptr_array_add(dying, account);
	if (destroy_idle == 0)
		destroy_idle = g_idle_add(destroy_dying, NULL);
}

void account_fail(struct account *account, enum worker_reason reason, const char *text, bool fatal)
{
	if (account->state == ACCOUNT_DEAD)
		return;
	g_message("account %u: disconnected (reason %d%s): %s", account->id, reason,
	          fatal ? ", fatal" : "", text);
	if (account->sendq != NULL)
		sendq_finish(account->sendq);
	ack_now(account); /* ferry must not resend what went out */
	channel_send(WORKER_FRAME(disconnected, .account = account->id, .reason = reason,
	                          .text = text, .fatal = fatal));
	account_kill(account);
}

void account_signed_on(struct account *account, const char *display_name)
{
	if (account->state != ACCOUNT_CONNECTING)
		return;
	account->state = ACCOUNT_ONLINE;
	g_clear_handle_id(&account->login_timer, g_source_remove);
	g_message("account %u: signed on as %s", account->id, display_name);
	g_autofree char *wanted = quirks_fallback(account, display_name);
	if (wanted != NULL) {
		g_message("account %u: %s was taken; signed on as %s", account->id, wanted,
		          display_name);
		account_emit(account, WORKER_FRAME(name_fallback, .account = account->id,
		                                   .wanted = wanted, .given = display_name));
	}
	if (!account->link_known) {
		/* no TLS certificate was verified on the way: a plaintext link */
		account->link_known = true;
		account_emit(account, WORKER_FRAME(link_info, .account = account->id,
		                                   .encrypted = false, .subject = "", .issuer = "",
		                                   .sha256 = "", .trust = WORKER_TRUST_NONE));
	}
	account_emit(account,
	             WORKER_FRAME(connected, .account = account->id, .nick = display_name));
	core_trim_later();
}

void account_link_known(struct account *account)
{
	account->link_known = true;
}

void account_prompts_changed(struct account *account, int delta)
{
	if (delta < 0 && account->prompts > 0)
		account->prompts--;
	else if (delta > 0)
		account->prompts++;
}

static gboolean on_login_timeout(gpointer data)
{
	struct account *account = data;
	if (account->prompts > 0) {
		/* the user is being asked (a login code, a certificate): ferry
		 * bounds the question; the deadline starts again after it */
		g_debug("account %u: sign-on deadline waits for %u open prompt(s)", account->id,
		        account->prompts);
		return G_SOURCE_CONTINUE;
	}
	account->login_timer = 0;
	g_autofree char *text = g_strdup_printf("no sign-on within %u s", login_timeout);
	account_fail(account, WORKER_REASON_TIMEOUT, text, false);
	return G_SOURCE_REMOVE;
}

/* ---- a new account ------------------------------------------------------------- */

/* purple_account_new returns the existing account for a known
 * (username, protocol) pair, and two ferry users (or a test login beside a
 * session) may share a legacy username: give each its own PurpleAccount. */
static PurpleAccount *create_purple_account(const char *username, const char *protocol)
{
	if (purple_accounts_find(username, protocol) == NULL)
		return purple_account_new(username, protocol);
	g_autofree char *placeholder = g_strdup_printf("ferry-placeholder-%u", ++placeholder_seq);
	PurpleAccount *pa = purple_account_new(placeholder, protocol);
	purple_account_set_username(pa, username);
	return pa;
}

void accounts_drop(guint32 id)
{
	struct account *old = accounts_lookup(id);
	if (old != NULL) {
		g_warning("account %u: login for an id in use; the old account is dropped", id);
		account_kill(old);
	}
}

struct account *accounts_add(guint32 id, guint32 flags, const char *protocol, const char *username)
{
	accounts_drop(id);
	struct account *account = g_new0(struct account, 1);
	account->id = id;
	account->flags = flags;
	account->presence = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_queue_init(&account->held);
	account->pa = create_purple_account(username, protocol);
	account->pa->ui_data = account;
	g_hash_table_insert(by_id, GUINT_TO_POINTER(id), account);
	purple_account_set_remember_password(account->pa, FALSE);
	purple_accounts_add(account->pa);
	return account;
}

void account_connect(struct account *account)
{
	g_message("account %u: logging in to %s%s", account->id,
	          purple_account_get_protocol_id(account->pa),
	          account_is_test(account) ? " (test)" : "");
	account->login_timer = g_timeout_add_seconds(login_timeout, on_login_timeout, account);
	/* Connects now, with the default (available) status; this may end the
	 * account before it returns. */
	purple_account_set_enabled(account->pa, WORKER_UI_ID, TRUE);
}

void accounts_init(guint timeout)
{
	login_timeout = timeout;
	by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
	dying = g_ptr_array_new();
	acks_due = g_array_new(FALSE, FALSE, sizeof(guint32));
}

void accounts_shutdown(bool notify)
{
	if (by_id == NULL)
		return;
	GList *live = g_hash_table_get_values(by_id);
	for (GList *l = live; l != NULL; l = l->next) {
		struct account *account = l->data;
		if (notify)
			account_fail(account, WORKER_REASON_LOGOUT, "the worker is shutting down",
			             false);
		else
			account_kill(account);
	}
	g_list_free(live);
	/* destroying one account can end others: bounded rounds */
	for (int round = 0; round < 8 && dying->len > 0; round++) {
		g_clear_handle_id(&destroy_idle, g_source_remove);
		destroy_dying(NULL);
	}
	g_clear_handle_id(&destroy_idle, g_source_remove);
	g_clear_pointer(&acks_due, g_array_unref);
	g_clear_pointer(&by_id, g_hash_table_destroy);
	g_ptr_array_free(dying, TRUE);
	dying = NULL;
}
