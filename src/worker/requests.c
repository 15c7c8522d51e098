/* requests: the notifications and account questions libpurple addresses
 * to a user interface (its request ui ops, the questions proper, are in
 * prompts.c).
 *
 * Notices become NOTICE frames (a notice libpurple gives without an
 * account goes to the connection whose input it is handling in that
 * dispatch, or to the log). Authorization requests ("may X add you?") wait for ferry's
 * WORKER_AUTH_REPLY, until their connection closes. */
#include "config.h"
#include "worker.h"

#include <string.h>

/* An authorization request waiting for ferry. */
struct auth {
	guint32 id;      /* the id ferry answers with */
	guint32 account; /* ferry's account id */
	PurpleAccountRequestAuthorizationCb grant, deny;
	void *user_data;
};

static GHashTable *auths;    /* id -> struct auth (owned) */
static guint32 last_auth_id; /* ids handed out so far */

/* A main-loop dispatch: the source running now and its id (a freed
 * source's address can come back). What libpurple says without naming an
 * account belongs to the connection it was handling in the same one. */
struct dispatch {
	GSource *source;
	guint id;
};

static struct dispatch dispatch_now(void)
{
	GSource *source = g_main_current_source();
	return (struct dispatch){source, source != NULL ? g_source_get_id(source) : 0};
}

static bool dispatch_is_now(struct dispatch d)
{
	struct dispatch now = dispatch_now();
	return d.source == now.source && d.id == now.id;
}

/* The connection whose input prpl-irc or prpl-jabber is handling: each
 * says so before every line or stanza it parses. */
static struct {
	PurpleConnection *gc;
	struct dispatch dispatch;
} input;

static void on_input(PurpleConnection *gc, gpointer packet, gpointer data)
{
	input.gc = gc;
	input.dispatch = dispatch_now();
}

/* The account of a notice libpurple gave without one (notify ui ops take
 * no account: prpl-irc's "No such nick", "Could not send", a ban, MOTD
 * text all come so): the connection whose input is being handled in this
 * very dispatch, when it is still there and ours; else NULL. */
struct account *requests_input_account(void)
{
	if (input.gc == NULL || !dispatch_is_now(input.dispatch) ||
	    !PURPLE_CONNECTION_IS_VALID(input.gc))
		return NULL;
	return accounts_find(purple_connection_get_account(input.gc));
}

void requests_notice(PurpleAccount *pa, const char *title, const char *text)
{
	struct account *account = pa != NULL ? accounts_find(pa) : requests_input_account();
	if (account == NULL) {
		/* ferry takes notices for its accounts only: no user to tell */
		g_message("libpurple said, about no account of ours: %s: %s", title, text);
		return;
	}
	account_emit(account, WORKER_FRAME(notice, .account = account_id(account), .title = title,
	                                   .text = text));
}

/* ---- notify ui ops: everything becomes a NOTICE, nothing stays open ------------ */

static void *notify_message(PurpleNotifyMsgType type, const char *title, const char *primary,
                            const char *secondary)
{
	g_autofree char *text = g_strjoin(secondary != NULL ? "\n" : "", primary,
	                                  secondary != NULL ? secondary : "", NULL);
	requests_notice(NULL, title != NULL && *title != '\0' ? title : primary, text);
	return NULL; /* libpurple then considers it closed */
}

static void *notify_email(PurpleConnection *gc, const char *subject, const char *from,
                          const char *to, const char *url)
{
	g_autofree char *text =
	    g_strdup_printf("From: %s\nSubject: %s", from ? from : "", subject ? subject : "");
	requests_notice(purple_connection_get_account(gc), "New e-mail", text);
	return NULL;
}

static void *notify_emails(PurpleConnection *gc, size_t count, gboolean detailed,
                           const char **subjects, const char **froms, const char **tos,
                           const char **urls)
{
	GString *text = g_string_new(NULL);
	g_string_append_printf(text, "%zu new e-mail(s)", count);
	for (size_t i = 0; detailed && subjects != NULL && i < count; i++)
		g_string_append_printf(text, "\nFrom: %s, Subject: %s",
		                       froms != NULL && froms[i] != NULL ? froms[i] : "",
		                       subjects[i] != NULL ? subjects[i] : "");
	requests_notice(purple_connection_get_account(gc), "New e-mail", text->str);
	g_string_free(text, TRUE);
	return NULL;
}

static void *notify_formatted(const char *title, const char *primary, const char *secondary,
                              const char *text)
{
	g_autofree char *plain = purple_markup_strip_html(text != NULL ? text : "");
	requests_notice(NULL, title != NULL ? title : primary, plain);
	return NULL;
}

static void *notify_userinfo(PurpleConnection *gc, const char *who, PurpleNotifyUserInfo *user_info)
{
	g_autofree char *markup = purple_notify_user_info_get_text_with_newline(user_info, "\n");
	g_autofree char *plain = purple_markup_strip_html(markup != NULL ? markup : "");
	g_autofree char *title = g_strdup_printf("Info about %s", who);
	requests_notice(purple_connection_get_account(gc), title, plain);
	return NULL;
}

static PurpleNotifyUiOps notify_ops = {
    .notify_message = notify_message,
    .notify_email = notify_email,
    .notify_emails = notify_emails,
    .notify_formatted = notify_formatted,
    .notify_userinfo = notify_userinfo,
};

/* ---- account ui ops: authorization requests wait for ferry --------------------- */

static void notify_added(PurpleAccount *pa, const char *remote_user, const char *id,
                         const char *alias, const char *message)
{
	g_autofree char *text =
	    g_strdup_printf("%s added you to their contact list%s%s", remote_user,
	                    message ? ": " : "", message ? message : "");
	requests_notice(pa, "Added by a contact", text);
}

static void *request_authorize(PurpleAccount *pa, const char *remote_user, const char *id,
                               const char *alias, const char *message, gboolean on_list,
                               PurpleAccountRequestAuthorizationCb grant,
                               PurpleAccountRequestAuthorizationCb deny, void *user_data)
{
	struct auth *auth = g_new0(struct auth, 1);
	if (++last_auth_id == 0)
		last_auth_id = 1;
	auth->id = last_auth_id;
	auth->grant = grant;
	auth->deny = deny;
	auth->user_data = user_data;
	g_hash_table_insert(auths, GUINT_TO_POINTER(auth->id), auth);
	struct account *account = accounts_find(pa);
	if (account != NULL) {
		auth->account = account_id(account);
		account_emit(account, WORKER_FRAME(auth_request, .account = auth->account,
		                                   .request = auth->id, .name = remote_user,
		                                   .alias = alias, .message = message));
	}
	/* else it stays until libpurple closes it with its connection */
	return auth;
}

static gboolean is_auth(gpointer key, gpointer value, gpointer handle)
{
	return value == handle;
}

static void close_account_request(void *handle)
{
	/* handle may already be answered and freed: compare, never dereference */
	g_hash_table_foreach_remove(auths, is_auth, handle);
}

static void request_add(PurpleAccount *pa, const char *remote_user, const char *id,
                        const char *alias, const char *message)
{
	g_autofree char *text =
	    g_strdup_printf("%s added you to their contact list; add them to yours to see them%s%s",
	                    remote_user, message ? ": " : "", message ? message : "");
	requests_notice(pa, "Added by a contact", text);
}

bool requests_answer_auth(struct account *account, guint32 id, bool granted)
{
	struct auth *auth = g_hash_table_lookup(auths, GUINT_TO_POINTER(id));
	if (auth == NULL || auth->account != account_id(account))
		return false;
	g_hash_table_steal(auths, GUINT_TO_POINTER(id));
	PurpleAccountRequestAuthorizationCb cb = granted ? auth->grant : auth->deny;
	void *user_data = auth->user_data;
	g_free(auth);
	if (cb != NULL)
		cb(user_data); /* libpurple forgets the request itself */
	return true;
}

static PurpleAccountUiOps account_ops = {
    .notify_added = notify_added,
    .request_add = request_add,
    .request_authorize = request_authorize,
    .close_account_request = close_account_request,
};

void requests_install(void)
{
	if (auths == NULL)
		auths = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	prompts_install();
	purple_notify_set_ui_ops(&notify_ops);
	purple_accounts_set_ui_ops(&account_ops);
	static int handle;
	PurplePlugin *irc = purple_plugins_find_with_id("prpl-irc");
	if (irc != NULL)
		purple_signal_connect(irc, "irc-receiving-text", &handle, PURPLE_CALLBACK(on_input),
		                      NULL);
	PurplePlugin *jabber = purple_plugins_find_with_id("prpl-jabber");
	if (jabber != NULL)
		purple_signal_connect(jabber, "jabber-receiving-xmlnode", &handle,
		                      PURPLE_CALLBACK(on_input), NULL);
}
