/* requests: the questions and notifications libpurple addresses to a user
 * interface, answered without one.
 *
 * No libpurple request is left open: each is answered from an idle
 * callback right after it is asked (never inside the request call itself,
 * whose caller has not registered it yet), and ferry gets a NOTICE saying
 * what was asked and chosen (a notice libpurple gives without an account
 * goes to the connection whose input it is handling in that dispatch, or
 * to the log). The answer is the request's default, except:
 *   - a TLS certificate prompt is always REJECTED (its default is Accept);
 *     the problem text ends up in the DISCONNECTED reason of the account
 *     whose connection fails in the same dispatch, and no other;
 *   - a password prompt (a masked field) is cancelled and the account ends
 *     with DISCONNECTED AUTH "a password is required";
 *   - file and folder prompts are cancelled (there is no file to offer and
 *     accepting would write where a remote user says).
 * Authorization requests ("may X add you?") are the exception: they wait
 * for ferry's WORKER_AUTH_REPLY, until their connection closes. */
#include "config.h"
#include "worker.h"

#include <string.h>

#define _(s) g_dgettext("pidgin", s) /* libpurple's own strings, as it shows them */

enum call {
	CALL_INPUT,  /* PurpleRequestInputCb(user_data, text) */
	CALL_CHOICE, /* PurpleRequestChoiceCb(user_data, value) */
	CALL_ACTION, /* PurpleRequestActionCb(user_data, index) */
	CALL_FIELDS, /* PurpleRequestFieldsCb(user_data, fields) */
	CALL_FILE,   /* PurpleRequestFileCb(user_data, NULL) */
};

/* An open libpurple request; its address is the ui handle. */
struct request {
	PurpleRequestType type;
	enum call call;
	GCallback cb;                /* the answer chosen when it was asked; may be NULL */
	void *user_data;             /* for CB */
	char *text;                  /* CALL_INPUT: the text given */
	int value;                   /* CALL_CHOICE: value; CALL_ACTION: index */
	PurpleRequestFields *fields; /* CALL_FIELDS: owned, destroyed on close */
	char *cert_problem;          /* a certificate being rejected: why */
	guint idle;                  /* pending answer */
	bool answering;              /* inside CB */
	bool closed;                 /* libpurple closed it while answering */
};

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

/* The certificate problem libpurple just reported, and the dispatch it
 * came in: only a connection failing in that same dispatch takes it
 * (requests_take_cert_problem()), never another account's later one. */
static char *cert_problem;
static struct dispatch cert_dispatch;
static guint cert_flush_idle; /* logs an unclaimed CERT_PROBLEM */

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
static struct account *input_account(void)
{
	if (input.gc == NULL || !dispatch_is_now(input.dispatch) ||
	    !PURPLE_CONNECTION_IS_VALID(input.gc))
		return NULL;
	return accounts_find(purple_connection_get_account(input.gc));
}

void requests_notice(PurpleAccount *pa, const char *title, const char *text)
{
	struct account *account = pa != NULL ? accounts_find(pa) : input_account();
	if (account == NULL) {
		/* ferry takes notices for its accounts only: no user to tell */
		g_message("libpurple said, about no account of ours: %s: %s", title, text);
		return;
	}
	account_emit(account, WORKER_FRAME(notice, .account = account_id(account), .title = title,
	                                   .text = text));
}

/* ---- certificate problems --------------------------------------------------- */

char *requests_take_cert_problem(void)
{
	if (cert_problem == NULL || !dispatch_is_now(cert_dispatch))
		return NULL; /* another dispatch's: the flush logs it */
	g_clear_handle_id(&cert_flush_idle, g_source_remove);
	return g_steal_pointer(&cert_problem);
}

static gboolean flush_cert_problem(gpointer data)
{
	cert_flush_idle = 0;
	g_autofree char *text = g_steal_pointer(&cert_problem);
	if (text != NULL)
		g_message("untrusted certificate, no connection failed with it: %s", text);
	return G_SOURCE_REMOVE;
}

/* Records TEXT as the reason of the certificate failure libpurple is about
 * to report synchronously, in this dispatch, to report_disconnect_reason
 * (events.c), which knows the account. Unclaimed, it is logged. */
static void set_cert_problem(const char *text)
{
	g_free(cert_problem);
	cert_problem = g_strdup(text);
	cert_dispatch = dispatch_now();
	if (cert_flush_idle == 0)
		cert_flush_idle = g_idle_add(flush_cert_problem, NULL);
}

/* ---- answering ---------------------------------------------------------------- */

static void request_free(struct request *req)
{
	g_clear_handle_id(&req->idle, g_source_remove);
	if (req->fields != NULL)
		purple_request_fields_destroy(req->fields);
	g_free(req->text);
	g_free(req->cert_problem);
	g_free(req);
}

static void call_answer(struct request *req)
{
	if (req->cb == NULL)
		return;
	switch (req->call) {
	case CALL_INPUT:
		((PurpleRequestInputCb)req->cb)(req->user_data, req->text);
		break;
	case CALL_CHOICE:
		((PurpleRequestChoiceCb)req->cb)(req->user_data, req->value);
		break;
	case CALL_ACTION:
		((PurpleRequestActionCb)req->cb)(req->user_data, req->value);
		break;
	case CALL_FIELDS:
		((PurpleRequestFieldsCb)req->cb)(req->user_data, req->fields);
		break;
	case CALL_FILE:
		((PurpleRequestFileCb)req->cb)(req->user_data, NULL);
		break;
	}
}

static gboolean answer(gpointer data)
{
	struct request *req = data;
	req->idle = 0;
	if (req->cert_problem != NULL)
		set_cert_problem(req->cert_problem);
	req->answering = true;
	call_answer(req);
	req->answering = false;
	if (req->cert_problem != NULL) {
		/* not claimed by a failing connection right away: no account to
		 * tell, so the log says it */
		g_autofree char *left = requests_take_cert_problem();
		if (left != NULL)
			g_message("untrusted certificate, no connection failed with it: %s", left);
	}
	if (req->closed)
		request_free(req);
	else
		purple_request_close(req->type, req); /* calls close_request() */
	return G_SOURCE_REMOVE;
}

static struct request *request_new(PurpleRequestType type, enum call call, GCallback cb,
                                   void *user_data)
{
	struct request *req = g_new0(struct request, 1);
	req->type = type;
	req->call = call;
	req->cb = cb;
	req->user_data = user_data;
	req->idle = g_idle_add(answer, req);
	return req;
}

static void close_request(PurpleRequestType type, void *handle)
{
	struct request *req = handle;
	if (req->answering)
		req->closed = true; /* answer() frees it */
	else
		request_free(req);
}

/* "primary\nsecondary\nAnswered automatically: CHOICE" as a NOTICE. */
static void notice_answer(PurpleAccount *pa, const char *title, const char *primary,
                          const char *secondary, const char *choice)
{
	GString *text = g_string_new(NULL);
	if (primary != NULL && *primary != '\0')
		g_string_append_printf(text, "%s\n", primary);
	if (secondary != NULL && *secondary != '\0')
		g_string_append_printf(text, "%s\n", secondary);
	g_string_append_printf(text, "Answered automatically: %s", choice);
	const char *t = title != NULL && *title != '\0' ? title : primary;
	requests_notice(pa, t != NULL ? t : "Question from libpurple", text->str);
	g_string_free(text, TRUE);
}

/* The prompt is for a password: end the account (AUTH) and cancel it. */
static void password_refused(PurpleAccount *pa)
{
	struct account *account = accounts_find(pa);
	if (account != NULL)
		account_fail(account, WORKER_REASON_AUTH, "a password is required", true);
	else
		g_message("password prompt for an account that is not ours: cancelled");
}

/* Removes a mnemonic underscore: "_View Certificate..." -> "View Certificate..." */
static char *plain_label(const char *label)
{
	char *out = g_strdup(label != NULL ? label : "");
	char *u = strchr(out, '_');
	if (u != NULL)
		memmove(u, u + 1, strlen(u));
	return out;
}

/* ---- request ui ops ------------------------------------------------------------- */

static void *request_input(const char *title, const char *primary, const char *secondary,
                           const char *default_value, gboolean multiline, gboolean masked,
                           gchar *hint, const char *ok_text, GCallback ok_cb,
                           const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
                           const char *who, PurpleConversation *conv, void *user_data)
{
	if (masked) {
		struct request *req =
		    request_new(PURPLE_REQUEST_INPUT, CALL_INPUT, cancel_cb, user_data);
		req->text = g_strdup("");
		password_refused(account);
		return req;
	}
	struct request *req = request_new(PURPLE_REQUEST_INPUT, CALL_INPUT, ok_cb, user_data);
	req->text = g_strdup(default_value != NULL ? default_value : "");
	g_autofree char *choice =
	    g_strdup_printf("%s with \"%s\"", ok_text ? ok_text : "OK", req->text);
	notice_answer(account, title, primary, secondary, choice);
	return req;
}

static void *request_choice(const char *title, const char *primary, const char *secondary,
                            int default_value, const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
                            const char *who, PurpleConversation *conv, void *user_data,
                            va_list choices)
{
	const char *chosen = NULL;
	/* (label, value) pairs up to a NULL label; bounded for safety */
	for (int i = 0; i < 1000; i++) {
		const char *label = va_arg(choices, const char *);
		if (label == NULL)
			break;
		int value = va_arg(choices, int);
		if (value == default_value && chosen == NULL)
			chosen = label;
	}
	struct request *req = request_new(PURPLE_REQUEST_CHOICE, CALL_CHOICE, ok_cb, user_data);
	req->value = default_value;
	g_autofree char *label = plain_label(chosen != NULL ? chosen : "(default)");
	notice_answer(account, title, primary, secondary, label);
	return req;
}

static bool is_cert_prompt(const char *title)
{
	return g_strcmp0(title, _("SSL Certificate Verification")) == 0 ||
	       g_strcmp0(title, _("Single-use Certificate Verification")) == 0;
}

static void *request_action(const char *title, const char *primary, const char *secondary,
                            int default_action, PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data, size_t action_count,
                            va_list actions)
{
	g_autofree const char **labels = g_new0(const char *, action_count + 1);
	g_autofree PurpleRequestActionCb *cbs = g_new0(PurpleRequestActionCb, action_count + 1);
	int reject = -1;
	for (size_t i = 0; i < action_count; i++) {
		labels[i] = va_arg(actions, const char *);
		cbs[i] = va_arg(actions, PurpleRequestActionCb);
		if (g_strcmp0(labels[i], _("Reject")) == 0 && reject < 0)
			reject = (int)i;
	}
	int chosen = default_action;
	bool cert = is_cert_prompt(title);
	if (cert)
		/* Accepting would trust any certificate; "Reject" is action 1 in
		 * libpurple's prompt if its label is not found. */
		chosen = reject >= 0 ? reject : (action_count > 1 ? 1 : -1);
	else if (chosen < 0 || (size_t)chosen >= action_count)
		/* no default: the last action is the negative one by libpurple's
		 * conventions (Accept/Cancel, Yes/No, OK/Cancel) */
		chosen = (int)action_count - 1;

	struct request *req = request_new(PURPLE_REQUEST_ACTION, CALL_ACTION,
	                                  chosen >= 0 ? (GCallback)cbs[chosen] : NULL, user_data);
	req->value = chosen;
	if (cert) {
		/* The notice goes out with the account's DISCONNECTED (events.c). */
		GString *problem = g_string_new(NULL);
		if (secondary != NULL && *secondary != '\0')
			g_string_append(problem, secondary);
		else if (primary != NULL)
			g_string_append(problem, primary);
		/* "validated.\n\nThe certificate is..." -> one line break */
		for (char *nn = strstr(problem->str, "\n\n"); nn != NULL;
		     nn = strstr(problem->str, "\n\n"))
			g_string_erase(problem, nn - problem->str, 1);
		req->cert_problem = g_string_free(problem, FALSE);
		g_strstrip(req->cert_problem);
		g_message("certificate prompt rejected: %s", req->cert_problem);
		return req;
	}
	g_autofree char *label = plain_label(chosen >= 0 ? labels[chosen] : "(none)");
	notice_answer(account, title, primary, secondary, label);
	return req;
}

static void *request_action_with_icon(const char *title, const char *primary, const char *secondary,
                                      int default_action, PurpleAccount *account, const char *who,
                                      PurpleConversation *conv, gconstpointer icon_data,
                                      gsize icon_size, void *user_data, size_t action_count,
                                      va_list actions)
{
	return request_action(title, primary, secondary, default_action, account, who, conv,
	                      user_data, action_count, actions);
}

static bool has_masked_field(PurpleRequestFields *fields)
{
	for (GList *g = purple_request_fields_get_groups(fields); g != NULL; g = g->next)
		for (GList *f = purple_request_field_group_get_fields(g->data); f != NULL;
		     f = f->next)
			if (purple_request_field_get_type(f->data) == PURPLE_REQUEST_FIELD_STRING &&
			    purple_request_field_string_is_masked(f->data))
				return true;
	return false;
}

static void *request_fields(const char *title, const char *primary, const char *secondary,
                            PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb, PurpleAccount *account,
                            const char *who, PurpleConversation *conv, void *user_data)
{
	struct request *req;
	if (has_masked_field(fields)) {
		/* cancelled first, then the account ends (both from idle) */
		req = request_new(PURPLE_REQUEST_FIELDS, CALL_FIELDS, cancel_cb, user_data);
		password_refused(account);
	} else if (!purple_request_fields_all_required_filled(fields)) {
		req = request_new(PURPLE_REQUEST_FIELDS, CALL_FIELDS, cancel_cb, user_data);
		notice_answer(account, title, primary, secondary,
		              "Cancel (required fields have no default)");
	} else {
		req = request_new(PURPLE_REQUEST_FIELDS, CALL_FIELDS, ok_cb, user_data);
		g_autofree char *choice =
		    g_strdup_printf("%s with the default values", ok_text != NULL ? ok_text : "OK");
		notice_answer(account, title, primary, secondary, choice);
	}
	req->fields = fields;
	return req;
}

static void *request_file(const char *title, const char *filename, gboolean savedialog,
                          GCallback ok_cb, GCallback cancel_cb, PurpleAccount *account,
                          const char *who, PurpleConversation *conv, void *user_data)
{
	notice_answer(account, title, filename, NULL, "Cancel (no file can be chosen here)");
	return request_new(PURPLE_REQUEST_FILE, CALL_FILE, cancel_cb, user_data);
}

static void *request_folder(const char *title, const char *dirname, GCallback ok_cb,
                            GCallback cancel_cb, PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data)
{
	notice_answer(account, title, dirname, NULL, "Cancel (no folder can be chosen here)");
	return request_new(PURPLE_REQUEST_FOLDER, CALL_FILE, cancel_cb, user_data);
}

static PurpleRequestUiOps request_ops = {
    .request_input = request_input,
    .request_choice = request_choice,
    .request_action = request_action,
    .request_fields = request_fields,
    .request_file = request_file,
    .close_request = close_request,
    .request_folder = request_folder,
    .request_action_with_icon = request_action_with_icon,
};

/* ---- notify ui ops: everything becomes a NOTICE, nothing stays open ------------ */

static void *notify_message(PurpleNotifyMsgType type, const char *title, const char *primary,
                            const char *secondary)
{
	if (g_strcmp0(title, _("SSL Certificate Error")) == 0) {
		/* followed at once by the connection's failure */
		set_cert_problem(secondary != NULL ? secondary : primary);
		return NULL;
	}
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
	purple_request_set_ui_ops(&request_ops);
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
