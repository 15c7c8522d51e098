/* prompts: libpurple's request ui ops, served by asking the user.
 *
 * Every request a plugin makes (input, choice, action, action with icon,
 * fields) becomes a PROMPT to ferry with its form, and stays open until
 * ferry answers it (ANSWER_PROMPT) or libpurple closes it. The rules
 * (commands-and-requests.md §4):
 *   - each served request gets a unique non-NULL handle (a struct
 *     prompt); file and folder requests are cancelled, with a NOTICE
 *     (there is no file to offer, and a path would be the remote side's
 *     choice), and request_folder is always set;
 *   - an answer is written with libpurple's own setters, then the
 *     callback runs, then purple_request_close(); nothing of ours is
 *     touched after the callback (it may disconnect the account, which
 *     closes the request first);
 *   - close_request is the only cleanup: a request closed by anyone but
 *     our answer (the plugin, or its connection going) is reported
 *     WITHDRAWN, and no callback of it ever runs after;
 *   - an action has no cancel: CANCEL runs the refusing action by its
 *     label (Reject, Cancel, No, Deny), else the request is closed and the
 *     login ended.
 * ferry's own certificate question (certs.c) goes through libpurple's
 * request API with the SSL connection as its handle, so that closing the
 * connection withdraws it; it is a CERTIFICATE prompt (actions reject,
 * once, always; hidden host, port, sha256). Two requests are still
 * answered here without asking: libpurple's own certificate questions
 * (only its verifiers ask them, and ferry's replaces them) are refused,
 * and prpl-jabber's plaintext-authentication question is refused with a
 * notice saying why. A request that names no account of ours and comes
 * outside any connection's input is cancelled, logged. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define _(s) g_dgettext("pidgin", s) /* libpurple's own strings, as it shows them */

enum call {
	CALL_INPUT,  /* PurpleRequestInputCb(user_data, text) */
	CALL_CHOICE, /* PurpleRequestChoiceCb(user_data, value) */
	CALL_ACTION, /* PurpleRequestActionCb(user_data, index) */
	CALL_FIELDS, /* PurpleRequestFieldsCb(user_data, fields) */
	CALL_FILE,   /* PurpleRequestFileCb(user_data, NULL) */
};

/* An open request; its address is the ui handle. */
struct prompt {
	guint32 id;      /* PROMPT id, 0 for a request answered here */
	guint32 account; /* ferry's account id, 0 when none */
	PurpleRequestType type;
	enum call call;
	GCallback ok_cb, cancel_cb;
	void *user_data;
	char *default_text; /* input: what the cancel callback gets */
	int default_value;  /* choice: the cancel callback's value */
	GArray *values;     /* choice: the option values (int) */
	guint n_actions;    /* action: the callbacks and plain labels */
	PurpleRequestActionCb *actions;
	char **labels;
	PurpleRequestFields *fields; /* fields: owned, destroyed on close */
	GPtrArray *shown;            /* fields: struct prompt_field, in form order */
	char *title;
	/* answered here (certificates, files, refusals): from an idle callback */
	guint idle;
	GCallback auto_cb;
	int auto_value;
	bool certificate; /* certs.c's question: user_data is its own */
	bool answering;   /* inside a callback of ours */
	bool closed;      /* libpurple closed it meanwhile */
};

static GHashTable *open_prompts; /* id -> struct prompt (not owned) */
static bool own_question;        /* prompts_own_question(): ferry's own doing */
static const struct prompts_certificate *asking_cert; /* prompts_ask_certificate() */
static guint32 last_id;
static GHashTable *refused_logins; /* account id -> why ferry refused a login question */

static void prompt_free(struct prompt *p)
{
	if (p->id != 0)
		g_hash_table_remove(open_prompts, GUINT_TO_POINTER(p->id));
	g_clear_handle_id(&p->idle, g_source_remove);
	if (p->fields != NULL)
		purple_request_fields_destroy(p->fields);
	if (p->shown != NULL)
		g_ptr_array_unref(p->shown);
	if (p->values != NULL)
		g_array_unref(p->values);
	g_free(p->actions);
	g_strfreev(p->labels);
	g_free(p->default_text);
	g_free(p->title);
	g_free(p);
}

/* Sends FRAME for account ID: through the account (a test login lets
 * prompts pass) while it exists, else straight out. */
static void emit(guint32 id, GBytes *frame)
{
	struct account *account = accounts_lookup(id);
	if (account != NULL)
		account_emit(account, frame);
	else if (frame != NULL)
		channel_send(frame);
}

static void emit_closed(guint32 account, guint32 id, guint32 why, const char *text)
{
	emit(account, WORKER_FRAME(prompt_closed, .account = account, .prompt = id, .why = why,
	                           .text = text));
}

static void emit_error(guint32 account, guint32 id, const char *text)
{
	emit(account, WORKER_FRAME(prompt_error, .account = account, .prompt = id, .text = text));
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

/* ---- answered here ------------------------------------------------------------- */

/* Calls CB, one of P's callbacks, with what its kind takes (TEXT for an
 * input, VALUE for a choice or an action). */
static void run_callback(struct prompt *p, GCallback cb, const char *text, int value)
{
	p->certificate = false; /* certs.c's data is its callback's now */
	if (cb == NULL)
		return;
	switch (p->call) {
	case CALL_INPUT:
		((PurpleRequestInputCb)cb)(p->user_data, text);
		break;
	case CALL_CHOICE:
		((PurpleRequestChoiceCb)cb)(p->user_data, value);
		break;
	case CALL_ACTION:
		((PurpleRequestActionCb)cb)(p->user_data, value);
		break;
	case CALL_FIELDS:
		((PurpleRequestFieldsCb)cb)(p->user_data, p->fields);
		break;
	case CALL_FILE:
		((PurpleRequestFileCb)cb)(p->user_data, NULL);
		break;
	}
}

static gboolean auto_answer(gpointer data)
{
	struct prompt *p = data;
	p->idle = 0;
	p->answering = true;
	run_callback(p, p->auto_cb, p->default_text, p->auto_value);
	p->answering = false;
	if (p->closed)
		prompt_free(p);
	else
		purple_request_close(p->type, p); /* calls close_request() */
	return G_SOURCE_REMOVE;
}

/* A request answered here with CB (VALUE for choices and actions), from an
 * idle callback: never inside the request call, whose caller has not
 * registered the handle yet. */
static struct prompt *auto_prompt(PurpleRequestType type, enum call call, GCallback cb, int value,
                                  void *user_data)
{
	struct prompt *p = g_new0(struct prompt, 1);
	p->type = type;
	p->call = call;
	p->auto_cb = cb;
	p->auto_value = value;
	p->user_data = user_data;
	p->idle = g_idle_add(auto_answer, p);
	return p;
}

/* ---- asking ------------------------------------------------------------------------ */

/* The account a request is for: the one it names, else the connection
 * whose input is being handled in this dispatch. */
static struct account *prompt_account(PurpleAccount *pa)
{
	struct account *account = pa != NULL ? accounts_find(pa) : NULL;
	return account != NULL ? account : requests_input_account();
}

static struct prompt *prompt_new(struct account *account, PurpleRequestType type, enum call call,
                                 const char *title, GCallback ok_cb, GCallback cancel_cb,
                                 void *user_data)
{
	struct prompt *p = g_new0(struct prompt, 1);
	if (++last_id == 0)
		last_id = 1;
	p->id = last_id;
	p->account = account_id(account);
	p->type = type;
	p->call = call;
	p->ok_cb = ok_cb;
	p->cancel_cb = cancel_cb;
	p->user_data = user_data;
	p->title = g_strdup(title != NULL ? title : "");
	g_hash_table_insert(open_prompts, GUINT_TO_POINTER(p->id), p);
	account_prompts_changed(account, 1);
	return p;
}

static char *instructions(const char *primary, const char *secondary)
{
	g_autofree char *a = primary != NULL ? purple_markup_strip_html(primary) : g_strdup("");
	g_autofree char *b = secondary != NULL ? purple_markup_strip_html(secondary) : g_strdup("");
	if (*a != '\0' && *b != '\0')
		return g_strdup_printf("%s\n%s", a, b);
	return g_strdup(*a != '\0' ? a : b);
}

/* Sends P's PROMPT; false (P to be cancelled) when it cannot go (too large). */
static bool send_prompt(struct prompt *p, guint32 kind, const char *primary, const char *secondary,
                        const char *who, GPtrArray *form)
{
	g_autofree char *text = instructions(primary, secondary);
	GBytes *frame =
	    WORKER_FRAME(prompt, .account = p->account, .prompt = p->id, .kind = kind,
	                 .title = p->title, .instructions = text, .who = who, .form = form);
	g_ptr_array_unref(form);
	if (frame == NULL)
		return false;
	g_message("account %u: prompt %u asked (kind %u)", p->account, p->id, kind);
	emit(p->account, frame);
	return true;
}

static void *request_input(const char *title, const char *primary, const char *secondary,
                           const char *default_value, gboolean multiline, gboolean masked,
                           gchar *hint, const char *ok_text, GCallback ok_cb,
                           const char *cancel_text, GCallback cancel_cb, PurpleAccount *pa,
                           const char *who, PurpleConversation *conv, void *user_data)
{
	if (own_question) {
		/* asked because ferry asked libpurple for something (prpl-jabber's
		 * conference server for a room list): its default, no user */
		g_message("input request '%s' during ferry's own call: its default",
		          title ? title : "");
		struct prompt *p =
		    auto_prompt(PURPLE_REQUEST_INPUT, CALL_INPUT, ok_cb, 0, user_data);
		p->default_text = g_strdup(default_value != NULL ? default_value : "");
		return p;
	}
	struct account *account = prompt_account(pa);
	if (account == NULL) {
		g_message("input request '%s' for no account of ours: cancelled",
		          title ? title : "");
		struct prompt *p =
		    auto_prompt(PURPLE_REQUEST_INPUT, CALL_INPUT, cancel_cb, 0, user_data);
		p->default_text = g_strdup(default_value != NULL ? default_value : "");
		return p;
	}
	struct prompt *p = prompt_new(account, PURPLE_REQUEST_INPUT, CALL_INPUT, title, ok_cb,
	                              cancel_cb, user_data);
	p->default_text = g_strdup(default_value != NULL ? default_value : "");
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *f = prompt_entry_new(form,
	                                 masked      ? "text-private"
	                                 : multiline ? "text-multi"
	                                             : "text-single",
	                                 "value", title);
	prompt_entry_set(f, WORKER_PROMPT_FIELD_VALUE, p->default_text);
	if (hint != NULL && *hint != '\0')
		prompt_entry_set(f, WORKER_PROMPT_FIELD_DESC, hint);
	if (!send_prompt(p, WORKER_PROMPT_KIND_INPUT, primary, secondary, who, form))
		prompts_cancel_now(p);
	return p;
}

static void *request_choice(const char *title, const char *primary, const char *secondary,
                            int default_value, const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb, PurpleAccount *pa,
                            const char *who, PurpleConversation *conv, void *user_data,
                            va_list choices)
{
	struct account *account = prompt_account(pa);
	if (account == NULL) {
		g_message("choice request '%s' for no account of ours: cancelled",
		          title ? title : "");
		return auto_prompt(PURPLE_REQUEST_CHOICE, CALL_CHOICE, cancel_cb, default_value,
		                   user_data);
	}
	struct prompt *p = prompt_new(account, PURPLE_REQUEST_CHOICE, CALL_CHOICE, title, ok_cb,
	                              cancel_cb, user_data);
	p->default_value = default_value;
	p->values = g_array_new(FALSE, FALSE, sizeof(int));
	GString *options = g_string_new(NULL);
	bool has_default = false;
	/* (label, value) pairs up to a NULL label; bounded for safety */
	for (int i = 0; i < 1000; i++) {
		const char *label = va_arg(choices, const char *);
		if (label == NULL)
			break;
		int value = va_arg(choices, int);
		g_array_append_val(p->values, value);
		g_autofree char *plain = plain_label(label);
		g_strdelimit(plain, "\t\n", ' ');
		g_string_append_printf(options, "%s%d\t%s", options->len ? "\n" : "", value, plain);
		has_default = has_default || value == default_value;
	}
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *f = prompt_entry_new(form, "list-single", "choice", title);
	g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_OPTIONS,
	                    g_string_free(options, FALSE));
	if (has_default)
		g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_VALUE,
		                    g_strdup_printf("%d", default_value));
	prompt_entry_set(f, WORKER_PROMPT_FIELD_REQUIRED, "1");
	if (!send_prompt(p, WORKER_PROMPT_KIND_CHOICE, primary, secondary, who, form))
		prompts_cancel_now(p);
	return p;
}

static bool is_cert_prompt(const char *title)
{
	return g_strcmp0(title, _("SSL Certificate Verification")) == 0 ||
	       g_strcmp0(title, _("Single-use Certificate Verification")) == 0;
}

static bool is_plaintext_prompt(const char *title)
{
	return g_strcmp0(title, _("Plaintext Authentication")) == 0 ||
	       g_strcmp0(title, "Plaintext Authentication") == 0;
}

/* The refusing action among LABELS (plain), or -1. */
static int refusing_action(char **labels, guint n)
{
	const char *const refusals[] = {"Reject", "Cancel", "No", "Deny"};
	for (gsize r = 0; r < G_N_ELEMENTS(refusals); r++) {
		g_autofree char *translated = plain_label(_(refusals[r]));
		for (guint i = 0; i < n; i++)
			if (g_ascii_strcasecmp(labels[i], refusals[r]) == 0 ||
			    g_strcmp0(labels[i], translated) == 0)
				return (int)i;
	}
	return -1;
}

/* certs.c's question Q for ACCOUNT as a CERTIFICATE prompt: actions 0
 * reject, 1 once, 2 always (CBS), answered by their names. */
static struct prompt *certificate_prompt(struct account *account,
                                         const struct prompts_certificate *q, char **labels,
                                         PurpleRequestActionCb *cbs, guint n, void *user_data)
{
	struct prompt *p = prompt_new(account, PURPLE_REQUEST_ACTION, CALL_ACTION, q->title, NULL,
	                              NULL, user_data);
	p->certificate = true;
	p->n_actions = n;
	p->labels = labels;
	p->actions = cbs;
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *f = prompt_entry_new(form, "list-single", "action", "Your choice");
	prompt_entry_set(f, WORKER_PROMPT_FIELD_OPTIONS,
	                 "reject\tReject\nonce\tAccept once, for this login\n"
	                 "always\tAlways accept this certificate for this account");
	prompt_entry_set(f, WORKER_PROMPT_FIELD_VALUE, "reject");
	prompt_entry_set(f, WORKER_PROMPT_FIELD_REQUIRED, "1");
	g_autofree char *port = g_strdup_printf("%u", q->port);
	prompt_entry_set(prompt_entry_new(form, "hidden", "host", NULL), WORKER_PROMPT_FIELD_VALUE,
	                 q->host);
	prompt_entry_set(prompt_entry_new(form, "hidden", "port", NULL), WORKER_PROMPT_FIELD_VALUE,
	                 port);
	prompt_entry_set(prompt_entry_new(form, "hidden", "sha256", NULL),
	                 WORKER_PROMPT_FIELD_VALUE, q->sha256);
	GBytes *frame = WORKER_FRAME(prompt, .account = p->account, .prompt = p->id,
	                             .kind = WORKER_PROMPT_KIND_CERTIFICATE, .title = p->title,
	                             .instructions = q->instructions, .who = "", .form = form);
	g_ptr_array_unref(form);
	if (frame == NULL) {
		prompts_cancel_now(p);
		return p;
	}
	g_message("account %u: prompt %u asked (certificate of %s)", p->account, p->id, q->host);
	emit(p->account, frame);
	return p;
}

void prompts_ask_certificate(struct account *account, void *handle,
                             const struct prompts_certificate *q, PurpleRequestActionCb cb,
                             void *data)
{
	asking_cert = q;
	purple_request_action(handle, q->title, q->instructions, NULL, 0, account_purple(account),
	                      NULL, NULL, data, 3, "Reject", cb, "Accept once", cb, "Always accept",
	                      cb);
	asking_cert = NULL;
}

static void *request_action_with_icon(const char *title, const char *primary, const char *secondary,
                                      int default_action, PurpleAccount *pa, const char *who,
                                      PurpleConversation *conv, gconstpointer icon_data,
                                      gsize icon_size, void *user_data, size_t action_count,
                                      va_list actions)
{
	guint n = (guint)MIN(action_count, 64);
	char **labels = g_new0(char *, n + 1);
	PurpleRequestActionCb *cbs = g_new0(PurpleRequestActionCb, n + 1);
	for (guint i = 0; i < n; i++) {
		labels[i] = plain_label(va_arg(actions, const char *));
		cbs[i] = va_arg(actions, PurpleRequestActionCb);
	}
	int refuse = refusing_action(labels, n);
	struct account *account = prompt_account(pa);
	struct prompt *p = NULL;
	if (asking_cert != NULL && account != NULL) {
		const struct prompts_certificate *q = asking_cert;
		asking_cert = NULL; /* this request only */
		return certificate_prompt(account, q, labels, cbs, n, user_data);
	}
	if (is_cert_prompt(title)) {
		/* libpurple's own verifiers ask this; ferry's replaced them. Its
		 * default is Accept, which trusts the host for every account */
		g_message("libpurple's certificate question '%s' refused", title);
		int reject = refuse >= 0 ? refuse : (n > 1 ? 1 : -1);
		p = auto_prompt(PURPLE_REQUEST_ACTION, CALL_ACTION,
		                reject >= 0 ? (GCallback)cbs[reject] : NULL, reject, user_data);
	} else if (account == NULL || (is_plaintext_prompt(title) && refuse >= 0)) {
		if (account != NULL) {
			static const char why[] =
			    "The server offers only plaintext authentication over an unencrypted "
			    "link; ferry refused to send your password that way.";
			g_message("account %u: prpl-jabber's plaintext authentication refused",
			          account_id(account));
			requests_notice(account_purple(account), "Plaintext authentication refused",
			                why);
			if (refused_logins == NULL)
				refused_logins = g_hash_table_new_full(NULL, NULL, NULL, g_free);
			g_hash_table_replace(refused_logins, GUINT_TO_POINTER(account_id(account)),
			                     g_strdup(why));
		} else
			g_message("action request '%s' for no account of ours: refused",
			          title ? title : "");
		p = auto_prompt(PURPLE_REQUEST_ACTION, CALL_ACTION,
		                refuse >= 0 ? (GCallback)cbs[refuse] : NULL, refuse, user_data);
	}
	if (p != NULL) {
		g_strfreev(labels);
		g_free(cbs);
		return p;
	}
	p = prompt_new(account, PURPLE_REQUEST_ACTION, CALL_ACTION, title, NULL, NULL, user_data);
	p->n_actions = n;
	p->labels = labels;
	p->actions = cbs;
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	if (icon_data != NULL && icon_size > 0) {
		GHashTable *icon = prompt_entry_new(form, "fixed", "", NULL);
		prompt_entry_image(icon, icon_data, icon_size);
	}
	GHashTable *f = prompt_entry_new(form, "list-single", "action", NULL);
	GString *options = g_string_new(NULL);
	for (guint i = 0; i < n; i++) {
		g_autofree char *label = g_strdup(labels[i]);
		g_strdelimit(label, "\t\n", ' ');
		g_string_append_printf(options, "%s%u\t%s", i ? "\n" : "", i, label);
	}
	g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_OPTIONS,
	                    g_string_free(options, FALSE));
	if (default_action >= 0 && (guint)default_action < n)
		g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_VALUE,
		                    g_strdup_printf("%d", default_action));
	prompt_entry_set(f, WORKER_PROMPT_FIELD_REQUIRED, "1");
	if (!send_prompt(p, WORKER_PROMPT_KIND_ACTION, primary, secondary, who, form))
		prompts_cancel_now(p);
	return p;
}

static void *request_action(const char *title, const char *primary, const char *secondary,
                            int default_action, PurpleAccount *pa, const char *who,
                            PurpleConversation *conv, void *user_data, size_t action_count,
                            va_list actions)
{
	return request_action_with_icon(title, primary, secondary, default_action, pa, who, conv,
	                                NULL, 0, user_data, action_count, actions);
}

static void *request_fields(const char *title, const char *primary, const char *secondary,
                            PurpleRequestFields *fields, const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb, PurpleAccount *pa,
                            const char *who, PurpleConversation *conv, void *user_data)
{
	struct account *account = prompt_account(pa);
	if (account == NULL) {
		g_message("fields request '%s' for no account of ours: cancelled",
		          title ? title : "");
		struct prompt *p =
		    auto_prompt(PURPLE_REQUEST_FIELDS, CALL_FIELDS, cancel_cb, 0, user_data);
		p->fields = fields;
		return p;
	}
	struct prompt *p = prompt_new(account, PURPLE_REQUEST_FIELDS, CALL_FIELDS, title, ok_cb,
	                              cancel_cb, user_data);
	p->fields = fields;
	p->shown = g_ptr_array_new_with_free_func(prompt_field_free);
	GPtrArray *form = prompt_fields_form(fields, p->shown);
	if (!send_prompt(p, WORKER_PROMPT_KIND_FIELDS, primary, secondary, who, form))
		prompts_cancel_now(p);
	return p;
}

static void *request_file(const char *title, const char *filename, gboolean savedialog,
                          GCallback ok_cb, GCallback cancel_cb, PurpleAccount *pa, const char *who,
                          PurpleConversation *conv, void *user_data)
{
	g_autofree char *text =
	    g_strdup_printf("%s%s\nCancelled: ferry offers no file to choose from here.",
	                    filename ? filename : "", savedialog ? " (save)" : "");
	requests_notice(pa, title != NULL ? title : "A file was asked for", text);
	return auto_prompt(PURPLE_REQUEST_FILE, CALL_FILE, cancel_cb, 0, user_data);
}

static void *request_folder(const char *title, const char *dirname, GCallback ok_cb,
                            GCallback cancel_cb, PurpleAccount *pa, const char *who,
                            PurpleConversation *conv, void *user_data)
{
	g_autofree char *text = g_strdup_printf(
	    "%s\nCancelled: ferry offers no folder to choose from here.", dirname ? dirname : "");
	requests_notice(pa, title != NULL ? title : "A folder was asked for", text);
	return auto_prompt(PURPLE_REQUEST_FOLDER, CALL_FILE, cancel_cb, 0, user_data);
}

/* close_request: the only cleanup. Not ours to answer any more. */
static void close_request(PurpleRequestType type, void *handle)
{
	struct prompt *p = handle;
	if (p->answering) {
		p->closed = true; /* the answer frees it */
		return;
	}
	if (p->certificate)
		certs_prompt_withdrawn(p->user_data); /* its connection is closing */
	if (p->id != 0) {
		g_message("account %u: prompt %u withdrawn", p->account, p->id);
		struct account *account = accounts_lookup(p->account);
		if (account != NULL)
			account_prompts_changed(account, -1);
		g_autofree char *text =
		    g_strdup_printf("The question \"%s\" was withdrawn.", p->title);
		emit_closed(p->account, p->id, WORKER_PROMPT_CLOSED_WITHDRAWN, text);
	}
	prompt_free(p);
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

void prompts_own_question(bool on)
{
	own_question = on;
}

void prompts_install(void)
{
	if (open_prompts == NULL)
		open_prompts = g_hash_table_new(g_direct_hash, g_direct_equal);
	purple_request_set_ui_ops(&request_ops);
}

/* ---- answering -------------------------------------------------------------------- */

/* Runs P's callback for ACTION (the value's index for actions), then closes it. */
static void finish(struct prompt *p, guint32 why, GCallback cb, const char *text, int value)
{
	guint32 id = p->id, account_id = p->account;
	struct account *account = accounts_lookup(account_id);
	if (account != NULL)
		account_prompts_changed(account, -1);
	g_hash_table_remove(open_prompts, GUINT_TO_POINTER(id));
	p->id = 0; /* no WITHDRAWN from here on */
	/* before the callback: a disconnection it causes comes after */
	emit_closed(account_id, id, why, "");
	p->answering = true;
	run_callback(p, cb, text, value);
	p->answering = false;
	bool closed = p->closed;
	PurpleRequestType type = p->type;
	if (closed)
		prompt_free(p);
	else
		purple_request_close(type, p); /* close_request() frees it */
}

void prompts_cancel_now(struct prompt *p)
{
	/* a PROMPT that could not go: nobody can answer it */
	g_message("account %u: prompt %u cannot be sent: cancelled", p->account, p->id);
	struct account *account = accounts_lookup(p->account);
	if (account != NULL)
		account_prompts_changed(account, -1);
	g_hash_table_remove(open_prompts, GUINT_TO_POINTER(p->id));
	p->id = 0;
	p->auto_cb = p->call == CALL_ACTION ? NULL : p->cancel_cb;
	if (p->call == CALL_ACTION) {
		int refuse = refusing_action(p->labels, p->n_actions);
		if (refuse >= 0) {
			p->auto_cb = (GCallback)p->actions[refuse];
			p->auto_value = refuse;
		}
	} else if (p->call == CALL_CHOICE) {
		p->auto_value = p->default_value;
	}
	p->idle = g_idle_add(auto_answer, p);
}

static bool parse_int(const char *s, long long *out)
{
	if (s == NULL || *s == '\0')
		return false;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static void answer_cancel(struct prompt *p)
{
	switch (p->call) {
	case CALL_INPUT:
		finish(p, WORKER_PROMPT_CLOSED_CANCELLED, p->cancel_cb, p->default_text, 0);
		return;
	case CALL_CHOICE:
		finish(p, WORKER_PROMPT_CLOSED_CANCELLED, p->cancel_cb, NULL, p->default_value);
		return;
	case CALL_ACTION: {
		int refuse = refusing_action(p->labels, p->n_actions);
		if (refuse >= 0) {
			finish(p, WORKER_PROMPT_CLOSED_CANCELLED, (GCallback)p->actions[refuse],
			       NULL, refuse);
			return;
		}
		/* nothing refuses: no action runs, the login ends */
		guint32 account_id = p->account;
		g_autofree char *text =
		    g_strdup_printf("the question \"%s\" was not answered", p->title);
		finish(p, WORKER_PROMPT_CLOSED_CANCELLED, NULL, NULL, -1);
		struct account *account = accounts_lookup(account_id);
		if (account != NULL)
			account_fail(account, WORKER_REASON_OTHER, text, true);
		return;
	}
	case CALL_FIELDS:
	case CALL_FILE:
		finish(p, WORKER_PROMPT_CLOSED_CANCELLED, p->cancel_cb, NULL, 0);
		return;
	}
}

static void answer_ok(struct prompt *p, GHashTable *values)
{
	const char *v;
	long long n = 0;
	switch (p->call) {
	case CALL_INPUT:
		v = g_hash_table_lookup(values, "value");
		finish(p, WORKER_PROMPT_CLOSED_ANSWERED, p->ok_cb, v != NULL ? v : p->default_text,
		       0);
		return;
	case CALL_CHOICE:
		v = g_hash_table_lookup(values, "choice");
		if (v == NULL && p->default_value >= 0) {
			n = p->default_value;
		} else if (!parse_int(v, &n) || n < G_MININT || n > G_MAXINT) {
			emit_error(p->account, p->id, "'choice' is not one of the options");
			return;
		}
		for (guint i = 0; i < p->values->len; i++)
			if (g_array_index(p->values, int, i) == (int)n) {
				finish(p, WORKER_PROMPT_CLOSED_ANSWERED, p->ok_cb, NULL, (int)n);
				return;
			}
		emit_error(p->account, p->id, "'choice' is not one of the options");
		return;
	case CALL_ACTION:
		v = g_hash_table_lookup(values, "action");
		if (p->certificate) {
			const char *names[] = {"reject", "once", "always"};
			n = -1;
			for (guint i = 0; i < G_N_ELEMENTS(names) && i < p->n_actions; i++)
				if (g_strcmp0(v, names[i]) == 0)
					n = i;
		} else if (!parse_int(v, &n)) {
			n = -1;
		}
		if (n < 0 || n >= p->n_actions) {
			emit_error(p->account, p->id, "'action' is not one of the actions");
			return;
		}
		finish(p, WORKER_PROMPT_CLOSED_ANSWERED, (GCallback)p->actions[n], NULL, (int)n);
		return;
	case CALL_FIELDS: {
		g_autofree char *why = NULL;
		struct account *account = accounts_lookup(p->account);
		if (!prompt_fields_apply(p->shown, values,
		                         account != NULL ? account_purple(account) : NULL, &why)) {
			emit_error(p->account, p->id, why);
			return;
		}
		finish(p, WORKER_PROMPT_CLOSED_ANSWERED, p->ok_cb, NULL, 0);
		return;
	}
	case CALL_FILE:
		answer_cancel(p);
		return;
	}
}

void prompts_on_answer(void *data, const struct worker_msg_answer_prompt *m)
{
	struct prompt *p = g_hash_table_lookup(open_prompts, GUINT_TO_POINTER(m->prompt));
	if (p == NULL || p->account != m->account || p->answering) {
		emit_closed(m->account, m->prompt, WORKER_PROMPT_CLOSED_UNKNOWN,
		            "This question is no longer open.");
		return;
	}
	g_message("account %u: prompt %u %s", p->account, p->id,
	          m->action == WORKER_PROMPT_CANCEL ? "cancelled" : "answered");
	if (m->action == WORKER_PROMPT_CANCEL)
		answer_cancel(p);
	else
		answer_ok(p, m->values);
}

char *prompts_take_refusal(guint32 account)
{
	gpointer text = NULL;
	if (refused_logins != NULL &&
	    g_hash_table_steal_extended(refused_logins, GUINT_TO_POINTER(account), NULL, &text))
		return text;
	return NULL;
}
