/* accounts: the legacy accounts ferry asked this worker to run, and the
 * commands it sends for them.
 *
 * ferry names accounts by id; each live id maps to one PurpleAccount whose
 * ui_data points back at its struct account. An account ends exactly once
 * (account_fail): DISCONNECTED goes up, ui_data is cleared so libpurple's
 * late callbacks find nothing, the id is free again at once, and the
 * PurpleAccount is destroyed from an idle callback, never from inside the
 * libpurple callback that reported the end (style.md rule 6). */
#include "config.h"
#include "worker.h"

#include <errno.h>
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
	bool queued_sends;        /* the prpl writes what it sends from a timer */
};

static GHashTable *by_id;     /* id -> live struct account (owned) */
static GPtrArray *dying;      /* dead accounts awaiting account_destroy() */
static guint destroy_idle;    /* source that destroys DYING */
static guint login_timeout;   /* seconds */
static bool shutting_down;    /* SHUTDOWN received: ignore further commands */
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

struct account *accounts_find(PurpleAccount *pa)
{
	if (pa == NULL)
		return NULL;
	struct account *account = pa->ui_data;
	return account != NULL && account->state != ACCOUNT_DEAD ? account : NULL;
}

void account_emit(struct account *account, guint32 type, GVariant *payload)
{
	if (account_is_test(account) && type != WORKER_CONNECTED && type != WORKER_DISCONNECTED) {
		g_variant_unref(g_variant_ref_sink(payload));
		return;
	}
	channel_send(type, account->id, payload);
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

/* ---- ending an account ------------------------------------------------------ */

/* Destroys a dead account's PurpleAccount: connection, buddies,
 * conversations, pending requests. Runs outside libpurple callbacks. */
/* ---- successful sends, reported together (WORKER_IMS_SENT) ----------------- */

static void ack_now(struct account *account)
{
	if (!account->ack_due)
		return;
	account->ack_due = false;
	channel_send(WORKER_IMS_SENT, account->id, g_variant_new("(u)", account->sent_through));
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

static void ack_later(struct account *account, guint32 seq)
{
	account->sent_through = seq;
	if (!account->ack_due) {
		account->ack_due = true;
		g_array_append_val(acks_due, account->id);
	}
}

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
	account->pa->ui_data = NULL;
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
	ack_now(account); /* ferry must not resend what went out */
	channel_send(WORKER_DISCONNECTED, account->id,
	             g_variant_new("(usb)", (guint32)reason, text, (gboolean)fatal));
	account_kill(account);
}

void account_signed_on(struct account *account, const char *display_name)
{
	if (account->state != ACCOUNT_CONNECTING)
		return;
	account->state = ACCOUNT_ONLINE;
	g_clear_handle_id(&account->login_timer, g_source_remove);
	g_message("account %u: signed on as %s", account->id, display_name);
	account_emit(account, WORKER_CONNECTED, g_variant_new("(s)", display_name));
	core_trim_later();
}

static gboolean on_login_timeout(gpointer data)
{
	struct account *account = data;
	account->login_timer = 0;
	g_autofree char *text = g_strdup_printf("no sign-on within %u s", login_timeout);
	account_fail(account, WORKER_REASON_TIMEOUT, text, false);
	return G_SOURCE_REMOVE;
}

/* ---- login -------------------------------------------------------------------- */

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

static PurpleAccountOption *find_option(PurplePluginProtocolInfo *info, const char *key)
{
	for (GList *l = info->protocol_options; l != NULL; l = l->next)
		if (g_strcmp0(purple_account_option_get_setting(l->data), key) == 0)
			return l->data;
	return NULL;
}

static bool parse_bool(const char *text, gboolean *value)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value = TRUE;
			return true;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value = FALSE;
			return true;
		}
	}
	return false;
}

static bool list_has_value(PurpleAccountOption *option, const char *value)
{
	for (GList *l = purple_account_option_get_list(option); l != NULL; l = l->next) {
		PurpleKeyValuePair *pair = l->data;
		if (g_strcmp0(pair->value, value) == 0)
			return true;
	}
	return false;
}

/* Sets one account option from its text form by the option's declared
 * type. Returns an error text (owned by the caller) or NULL. Values are
 * never logged: some options are secrets. */
static char *apply_option(PurpleAccount *pa, PurpleAccountOption *option, const char *key,
                          const char *value)
{
	switch (purple_account_option_get_type(option)) {
	case PURPLE_PREF_BOOLEAN: {
		gboolean b;
		if (!parse_bool(value, &b))
			return g_strdup_printf("option '%s' must be true or false", key);
		purple_account_set_bool(pa, key, b);
		return NULL;
	}
	case PURPLE_PREF_INT: {
		gint64 n;
		if (!g_ascii_string_to_signed(value, 10, G_MININT, G_MAXINT, &n, NULL))
			return g_strdup_printf("option '%s' must be an integer", key);
		purple_account_set_int(pa, key, (int)n);
		return NULL;
	}
	case PURPLE_PREF_STRING:
		purple_account_set_string(pa, key, value);
		return NULL;
	case PURPLE_PREF_STRING_LIST:
		if (!list_has_value(option, value))
			return g_strdup_printf("option '%s' has no choice with that value", key);
		purple_account_set_string(pa, key, value);
		return NULL;
	default:
		g_message("option '%s' has an unsupported type: ignored", key);
		return NULL;
	}
}

static char *apply_options(PurpleAccount *pa, PurplePluginProtocolInfo *info, guint32 id,
                           GVariant *options)
{
	GVariantIter iter;
	const char *key, *value;
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&s&s}", &key, &value)) {
		PurpleAccountOption *option = find_option(info, key);
		if (option == NULL) {
			g_message("account %u: unknown option '%s' ignored", id, key);
			continue;
		}
		g_debug("account %u: option '%s' set", id, key);
		char *error = apply_option(pa, option, key, value);
		if (error != NULL)
			return error;
	}
	return NULL;
}

static void send_disconnected(guint32 id, enum worker_reason reason, const char *text, bool fatal)
{
	g_message("account %u: login refused: %s", id, text);
	channel_send(WORKER_DISCONNECTED, id,
	             g_variant_new("(usb)", (guint32)reason, text, (gboolean)fatal));
}

static void login(guint32 id, GVariant *payload)
{
	const char *protocol, *username, *password;
	g_autoptr(GVariant) options = NULL;
	guint32 flags;
	g_variant_get(payload, "(&s&s&s@a{ss}u)", &protocol, &username, &password, &options,
	              &flags);

	struct account *old = g_hash_table_lookup(by_id, GUINT_TO_POINTER(id));
	if (old != NULL) {
		g_warning("account %u: login for an id in use; the old account is dropped", id);
		account_kill(old);
	}
	PurplePlugin *prpl = purple_find_prpl(protocol);
	if (prpl == NULL) {
		g_autofree char *text = g_strdup_printf("unknown protocol %s", protocol);
		send_disconnected(id, WORKER_REASON_INVALID, text, true);
		return;
	}
	if (*username == '\0') {
		send_disconnected(id, WORKER_REASON_INVALID, "the username is empty", true);
		return;
	}

	struct account *account = g_new0(struct account, 1);
	account->id = id;
	account->flags = flags;
	account->presence = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	account->queued_sends = strcmp(protocol, "prpl-irc") == 0; /* see flush_sends() */
	account->pa = create_purple_account(username, protocol);
	account->pa->ui_data = account;
	g_hash_table_insert(by_id, GUINT_TO_POINTER(id), account);
	purple_account_set_remember_password(account->pa, FALSE);
	purple_accounts_add(account->pa);

	g_autofree char *error =
	    apply_options(account->pa, PURPLE_PLUGIN_PROTOCOL_INFO(prpl), id, options);
	if (error != NULL) {
		account_fail(account, WORKER_REASON_INVALID, error, true);
		return;
	}
	if (*password != '\0')
		purple_account_set_password(account->pa, password);
	g_message("account %u: logging in to %s%s", id, protocol,
	          account_is_test(account) ? " (test)" : "");
	account->login_timer = g_timeout_add_seconds(login_timeout, on_login_timeout, account);
	/* Connects now, with the default (available) status; this may end the
	 * account before it returns. */
	purple_account_set_enabled(account->pa, WORKER_UI_ID, TRUE);
}

/* ---- other commands --------------------------------------------------------- */

static void set_status(struct account *account, GVariant *payload)
{
	guint32 status;
	const char *message;
	g_variant_get(payload, "(u&s)", &status, &message);
	/* Wanted primitive first, then fallbacks for prpls that lack it. */
	static const PurpleStatusPrimitive wanted[][3] = {
	    [WORKER_STATUS_AVAILABLE] = {PURPLE_STATUS_AVAILABLE, 0, 0},
	    [WORKER_STATUS_AWAY] = {PURPLE_STATUS_AWAY, PURPLE_STATUS_AVAILABLE, 0},
	    [WORKER_STATUS_XA] = {PURPLE_STATUS_EXTENDED_AWAY, PURPLE_STATUS_AWAY, 0},
	    [WORKER_STATUS_DND] = {PURPLE_STATUS_UNAVAILABLE, PURPLE_STATUS_AWAY, 0},
	};
	if (status == WORKER_STATUS_OFFLINE || status >= G_N_ELEMENTS(wanted)) {
		g_warning("account %u: status %u cannot be set (use logout)", account->id, status);
		return;
	}
	PurpleStatusType *type = NULL;
	for (int i = 0; i < 3 && type == NULL && wanted[status][i] != 0; i++)
		type =
		    purple_account_get_status_type_with_primitive(account->pa, wanted[status][i]);
	if (type == NULL) {
		g_warning("account %u: the protocol has no status for %u", account->id, status);
		return;
	}
	const char *id = purple_status_type_get_id(type);
	g_debug("account %u: status %s", account->id, id);
	/* The message is plain text; libpurple's status messages are markup. */
	if (*message != '\0' && purple_status_type_get_attr(type, "message") != NULL) {
		g_autofree char *markup = g_markup_escape_text(message, -1);
		purple_account_set_status(account->pa, id, TRUE, "message", markup, NULL);
	} else {
		purple_account_set_status(account->pa, id, TRUE, NULL);
	}
}

static void add_buddy(struct account *account, GVariant *payload)
{
	const char *name, *alias;
	g_variant_get(payload, "(&s&s)", &name, &alias);
	PurpleBuddy *buddy = purple_find_buddy(account->pa, name);
	if (buddy == NULL) {
		/* buddy-added reports its status */
		buddy = purple_buddy_new(account->pa, name, *alias != '\0' ? alias : NULL);
		purple_blist_add_buddy(buddy, NULL, NULL, NULL);
		purple_account_add_buddy(account->pa, buddy);
		return;
	}
	if (*alias != '\0' && g_strcmp0(purple_buddy_get_alias_only(buddy), alias) != 0) {
		purple_blist_alias_buddy(buddy, alias);
		serv_alias_buddy(buddy);
	}
	/* Already listed, yet the user asks to add it: ask the protocol again.
	 * prpl-jabber then subscribes when it has no subscription to the
	 * contact yet (a contact that only asked for ours is listed without
	 * one). prpl-irc counts its adds (irc_add_buddy takes a reference per
	 * call), so it is not asked twice. */
	if (strcmp(purple_account_get_protocol_id(account->pa), "prpl-irc") != 0)
		purple_account_add_buddy(account->pa, buddy);
	account_presence_forget(account, name);
	events_report_buddy(buddy);
}

static void remove_buddy(struct account *account, GVariant *payload)
{
	const char *name;
	g_variant_get(payload, "(&s)", &name);
	/* one PurpleBuddy per group the contact is in */
	GSList *buddies = purple_find_buddies(account->pa, name);
	if (buddies == NULL) {
		/* already gone: confirm anyway, so both sides agree */
		account_emit(account, WORKER_BUDDY_REMOVED, g_variant_new("(s)", name));
		return;
	}
	for (GSList *l = buddies; l != NULL; l = l->next) {
		PurpleBuddy *buddy = l->data;
		purple_account_remove_buddy(account->pa, buddy, purple_buddy_get_group(buddy));
		purple_blist_remove_buddy(buddy); /* buddy-removed reports it */
	}
	g_slist_free(buddies);
}

static const char *send_error(int result)
{
	if (result == 0)
		return "the protocol sent nothing (empty message?)";
	if (result == -E2BIG)
		return "the message is too large";
	if (result == -ENOTCONN)
		return "not connected";
	return g_strerror(-result);
}

/* libpurple 2.14's IRC prpl queues every line it sends and writes the
 * queue from a 1-second g_timeout_add_seconds() timer (irc.c,
 * irc_send_handler_cb), so each message would wait up to a second. That
 * timer is loop.c's (see there), found by its data, the connection's
 * protocol data; running it right after a command sends at once, in the
 * same main loop iteration. The handler still applies the account's
 * ratelimit-interval/-burst itself. */
static void flush_sends(struct account *account)
{
	if (account == NULL || !account->queued_sends)
		return;
	PurpleConnection *gc = purple_account_get_connection(account->pa);
	gpointer proto = gc != NULL ? purple_connection_get_protocol_data(gc) : NULL;
	guint timer = proto != NULL ? loop_timer_of(proto) : 0;
	if (timer != 0)
		(void)loop_timer_run(timer);
}

static void send_im(guint32 id, struct account *account, GVariant *payload)
{
	guint32 seq;
	const char *name, *text;
	g_variant_get(payload, "(u&s&s)", &seq, &name, &text);
	PurpleConnection *gc = account != NULL ? purple_account_get_connection(account->pa) : NULL;
	const char *error = NULL;
	if (account == NULL)
		error = "not logged in";
	else if (account_is_test(account))
		error = "a test login sends no messages";
	else if (gc == NULL || purple_connection_get_state(gc) != PURPLE_CONNECTED)
		error = "not connected yet";
	if (error == NULL) {
		/* serv_send_im, not purple_conv_im_send: the latter linkifies
		 * the text for HTML protocols (URLs become <a> markup). Some
		 * prpls look the conversation up while sending (prpl-jabber,
		 * for custom smileys), so make sure there is one; libpurple
		 * keeps no history for it (events.c owns the write ops). */
		if (purple_find_conversation_with_account(PURPLE_CONV_TYPE_IM, name, account->pa) ==
		    NULL)
			purple_conversation_new(PURPLE_CONV_TYPE_IM, account->pa, name);
		int result = serv_send_im(gc, name, text, PURPLE_MESSAGE_SEND);
		if (result <= 0)
			error = send_error(result);
		if (WORKER_DEBUG_ON())
			g_debug("account %u: IM %u of %zu bytes relayed (%d)", id, seq,
			        strlen(text), result);
	}
	if (error != NULL) {
		channel_send(WORKER_IM_RESULT, id, g_variant_new("(ubs)", seq, FALSE, error));
		return;
	}
	/* On the wire first; ferry hears of it a moment later, with others. */
	flush_sends(account);
	ack_later(account, seq);
}

static void send_typing(struct account *account, GVariant *payload)
{
	const char *name;
	guint32 state;
	g_variant_get(payload, "(&su)", &name, &state);
	PurpleConnection *gc = purple_account_get_connection(account->pa);
	if (gc == NULL || purple_connection_get_state(gc) != PURPLE_CONNECTED ||
	    account_is_test(account))
		return;
	PurpleTypingState typing = state == WORKER_TYPING_ACTIVE   ? PURPLE_TYPING
	                           : state == WORKER_TYPING_PAUSED ? PURPLE_TYPED
	                                                           : PURPLE_NOT_TYPING;
	serv_send_typing(gc, name, typing);
}

/* A test login becomes the user's session: events flow from now on, and
 * the buddies it already has are reported. */
static void keep(struct account *account)
{
	if (!account_is_test(account))
		return;
	account->flags &= ~(guint32)WORKER_LOGIN_TEST;
	g_message("account %u: kept as a session", account->id);
	GSList *buddies = purple_find_buddies(account->pa, NULL);
	for (GSList *l = buddies; l != NULL; l = l->next) {
		account_presence_forget(account, purple_buddy_get_name(l->data));
		events_report_buddy(l->data);
	}
	g_slist_free(buddies);
}

void accounts_handle(guint32 type, guint32 id, GVariant *payload)
{
	if (shutting_down) {
		g_debug("%s for account %u ignored: shutting down", worker_msg_name(type), id);
		return;
	}
	if (type == WORKER_SHUTDOWN) {
		g_message("shutdown requested");
		shutting_down = true;
		worker_quit();
		return;
	}
	if (id == 0) {
		g_warning("%s for account 0 ignored", worker_msg_name(type));
		return;
	}
	if (type == WORKER_LOGIN) {
		login(id, payload);
		return;
	}
	struct account *account = g_hash_table_lookup(by_id, GUINT_TO_POINTER(id));
	if (type == WORKER_SEND_IM) {
		send_im(id, account, payload); /* answers even for unknown ids */
		return;
	}
	if (account == NULL) {
		g_debug("%s for unknown account %u ignored", worker_msg_name(type), id);
		return;
	}
	switch (type) {
	case WORKER_LOGOUT:
		account_fail(account, WORKER_REASON_LOGOUT, "logged out", false);
		break;
	case WORKER_SET_STATUS:
		set_status(account, payload);
		break;
	case WORKER_ADD_BUDDY:
		add_buddy(account, payload);
		break;
	case WORKER_REMOVE_BUDDY:
		remove_buddy(account, payload);
		break;
	case WORKER_SEND_TYPING:
		send_typing(account, payload);
		break;
	case WORKER_KEEP:
		keep(account);
		break;
	case WORKER_AUTH_REPLY: {
		guint32 request;
		gboolean granted;
		g_variant_get(payload, "(ub)", &request, &granted);
		if (!requests_answer_auth(account, request, granted))
			g_debug("account %u: no pending authorization %u", id, request);
		break;
	}
	default:
		g_warning("unexpected %s for account %u", worker_msg_name(type), id);
		break;
	}
	if (type != WORKER_LOGOUT)
		flush_sends(account);
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
