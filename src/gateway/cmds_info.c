/* cmds_info: the commands that show a registered user where they stand --
 * status (the legacy login, how its link is protected, open questions,
 * how contacts get into the roster, with a fix for the missing ones),
 * contacts (a table), prompts (the open questions, one answered per run)
 * and the def that runs one prompt (node prompt/<id>, and the chat bot's
 * questions). Front-end neutral: cmd.h. */
#include "config.h"

#include <string.h>

#include "cmd.h"
#include "prompts.h"

/* ---- status ---------------------------------------------------------------------------- */

static const char *state_text(enum session_state state)
{
	switch (state) {
	case SESSION_ONLINE:
		return "online";
	case SESSION_CONNECTING:
		return "connecting";
	case SESSION_RECONNECTING:
		return "reconnecting (the connection was lost)";
	case SESSION_FAILED:
		return "failed (no more retries until you come online again)";
	default:
		/* a command comes from an online resource: the transport not
		 * seeing it means it has no presence subscription */
		return "offline (the transport does not see your presence: accept its contact "
		       "request, or set yourself available)";
	}
}

static const char *trust_text(guint32 trust)
{
	switch (trust) {
	case WORKER_TRUST_CA:
		return "valid for the server by the system's certificate authorities";
	case WORKER_TRUST_PINNED:
		return "always accepted by you for this account";
	case WORKER_TRUST_ONCE:
		return "accepted by you for this login only";
	default:
		return "not trusted";
	}
}

/* A fixed field VAR saying "LABEL: TEXT". The label is in the value, not
 * in a label attribute: Gajim 1.7 shows a fixed field's value only (tried:
 * the status form read "offline", "none", "0" with nothing to say what
 * they were), and XEP-0004 gives fixed fields no label to show. */
static void add_fixed(struct dataform *form, const char *var, const char *label, const char *text)
{
	g_autofree char *line = g_strdup_printf("%s: %s", label, text);
	dataform_field_add_value(dataform_add_field(form, DATAFORM_FIXED, var, NULL), line);
}

static void add_connection(struct dataform *form, struct session *s)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	enum session_state state = session_state(s);
	g_autofree char *conn =
	    state == SESSION_ONLINE && session_nick(s) != NULL
	        ? g_strdup_printf("online, signed on to %s as %s", regform_protocol_name(ctx->form),
	                          session_nick(s))
	        : g_strdup(state_text(state));
	add_fixed(form, "state", "Legacy connection", conn);
	const char *failure = session_failure(s);
	add_fixed(form, "error", "Last error", failure != NULL ? failure : "none");
}

static void add_link(struct dataform *form, struct session *s)
{
	const struct session_link *link = session_link(s);
	if (link == NULL) {
		add_fixed(form, "encrypted", "Encryption",
		          session_account(s) != 0 ? "not known yet" : "not connected");
		return;
	}
	/* libpurple tells no TLS version or cipher: the certificate only */
	add_fixed(form, "encrypted", "Encryption",
	          link->encrypted ? "encrypted (TLS)" : "NOT encrypted");
	if (!link->encrypted)
		return;
	add_fixed(form, "cert_subject", "Certificate subject", link->subject);
	add_fixed(form, "cert_issuer", "Certificate issuer", link->issuer);
	add_fixed(form, "cert_sha256", "Certificate SHA-256", link->sha256);
	add_fixed(form, "cert_trust", "Certificate trust", trust_text(link->trust));
}

static void add_prompts(struct dataform *form, const struct gateway_ctx *ctx, const char *user)
{
	g_autoptr(GPtrArray) open =
	    ctx->prompts != NULL ? prompts_of(ctx->prompts, user) : g_ptr_array_new();
	GString *text = g_string_new(NULL);
	g_string_printf(text, "%u", open->len);
	for (guint i = 0; i < open->len; i++)
		g_string_append_printf(text, "%s%s", i == 0 ? ": " : "; ",
		                       prompt_title(g_ptr_array_index(open, i)));
	add_fixed(form, "prompts", "Open questions (the prompts command answers them)", text->str);
	g_string_free(text, TRUE);
}

static void add_roster(struct dataform *form, struct session *s)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *user = session_jid(s);
	const char *server = strchr(user, '@') + 1;
	bool pushing = false;
	guint version = roster_privilege(ctx->roster, user, &pushing);
	g_autofree char *method = NULL;
	if (version != 0 && pushing)
		method =
		    g_strdup_printf("XEP-0356 urn:xmpp:privilege:%u granted by %s: contacts are "
		                    "put into your roster directly",
		                    version, server);
	else if (version != 0)
		method = g_strdup_printf(
		    "XEP-0356 urn:xmpp:privilege:%u granted by %s, but a roster push failed: each "
		    "contact asks you with a subscription request",
		    version, server);
	else
		method = g_strdup_printf("XEP-0356 not granted by %s: each contact asks you with a "
		                         "subscription request",
		                         server);
	add_fixed(form, "roster_method", "Roster method", method);
	g_autofree char *missing = g_strdup_printf("%u", roster_missing(s));
	add_fixed(form, "missing", "Contacts not yet in your roster", missing);
}

static void status_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct session *s = sessions_get(ctx->sessions, cmd_run_user(run), true);
	if (s == NULL) {
		cmd_run_fail(run, "registration-required", "you are not registered");
		return;
	}
	struct dataform *form = dataform_new(DATAFORM_FORM);
	g_autofree char *title = g_strdup_printf("Status at %s", ctx->jid);
	dataform_set_title(form, title);
	add_connection(form, s);
	add_link(form, s);
	add_prompts(form, ctx, cmd_run_user(run));
	add_roster(form, s);
	struct dataform_field *fix = dataform_add_field(
	    form, DATAFORM_BOOLEAN, "fix", "Fix my contact list (add the missing contacts again)");
	dataform_field_add_value(fix, "false");
	cmd_run_form(run, form, true);
}

static void status_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct session *s = sessions_get(ctx->sessions, cmd_run_user(run), true);
	if (s == NULL || g_strcmp0(dataform_get_value(values, "fix"), "true") != 0) {
		cmd_run_done(run, "No change", NULL);
		return;
	}
	bool pushed = false;
	guint n = roster_fix(s, &pushed);
	g_autofree char *note =
	    n == 0 ? g_strdup("Every contact is in your roster already: nothing to fix")
	    : pushed
	        ? g_strdup_printf("Put %u contact%s into your roster again", n, n == 1 ? "" : "s")
	        : g_strdup_printf("Asked again for %u contact%s: accept the subscription "
	                          "request%s in your client",
	                          n, n == 1 ? "" : "s", n == 1 ? "" : "s");
	g_info("cmds: %s: roster fix: %u contact(s) %s", cmd_run_user(run), n,
	       pushed ? "pushed" : "asked");
	cmd_run_done(run, note, NULL);
}

static const struct cmd_def status_def = {
    .node = "status",
    .name = "Status",
    .word = "status",
    .help = "your legacy connection, open questions and contact list (and a fix for it)",
    .who = CMD_WHO_REGISTERED,
    .start = status_start,
    .submit = status_submit,
};

/* ---- contacts -------------------------------------------------------------------------- */

static const char *status_name(guint32 status)
{
	switch (status) {
	case WORKER_STATUS_AVAILABLE:
		return "available";
	case WORKER_STATUS_AWAY:
		return "away";
	case WORKER_STATUS_XA:
		return "extended away";
	case WORKER_STATUS_DND:
		return "do not disturb";
	default:
		return "offline";
	}
}

static void contacts_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct session *s = sessions_get(ctx->sessions, cmd_run_user(run), true);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) stored =
	    s != NULL ? storage_contact_list(ctx->storage, cmd_run_user(run), &err) : NULL;
	if (stored == NULL) {
		cmd_run_fail(run, "internal-server-error", "your contacts cannot be read now");
		return;
	}
	contacts_load(s);
	bool online = session_state(s) == SESSION_ONLINE;
	struct dataform *result = dataform_new(DATAFORM_RESULT);
	g_autofree char *title =
	    g_strdup_printf("Your %s contacts", regform_protocol_name(ctx->form));
	dataform_set_title(result, title);
	dataform_add_column(result, DATAFORM_TEXT_SINGLE, "name", "Name");
	dataform_add_column(result, DATAFORM_JID_SINGLE, "jid", "JID");
	dataform_add_column(result, DATAFORM_TEXT_SINGLE, "status", "Status");
	guint n = 0;
	for (guint i = 0; i < stored->len; i++) {
		const struct storage_contact *sc = g_ptr_array_index(stored, i);
		struct contact *c = contact_get(s, sc->legacy_name, false);
		if (c == NULL || contact_jid(c) == NULL)
			continue;
		const char *text = NULL;
		guint32 status = online ? contact_status(c, &text) : WORKER_STATUS_OFFLINE;
		g_autofree char *shown = text != NULL && *text != '\0'
		                             ? g_strdup_printf("%s (%s)", status_name(status), text)
		                             : g_strdup(status_name(status));
		guint row = dataform_add_row(result);
		dataform_add_cell(result, row, "name", contact_display_name(c));
		dataform_add_cell(result, row, "jid", contact_jid(c));
		dataform_add_cell(result, row, "status", shown);
		n++;
	}
	g_autofree char *note =
	    n == 0 ? g_strdup("You have no contacts yet")
	           : g_strdup_printf("%u contact%s%s", n, n == 1 ? "" : "s",
	                             online ? "" : " (not connected: every status is offline)");
	cmd_run_done(run, note, result);
}

static const struct cmd_def contacts_def = {
    .node = "contacts",
    .name = "Contacts",
    .word = "contacts",
    .help = "your legacy contacts with their addresses and status",
    .who = CMD_WHO_REGISTERED,
    .start = contacts_start,
};

/* ---- prompts: one open question answered by a run ------------------------------------- */

#define ALREADY_ANSWERED "This question was already answered"

struct prompt_run {
	struct cmd_run *run;
	struct prompt *prompt; /* shown and watched; NULL before, and once closed */
	bool answered;         /* our answer is on its way to the worker */
};

static void closed(void *data, struct prompt *p, enum prompt_end end, const char *text);
static void refused(void *data, struct prompt *p, const char *text);

static const struct prompt_watcher watcher = {
    .closed = closed,
    .refused = refused,
};

static void prompt_run_free(gpointer data)
{
	struct prompt_run *pr = data;
	if (pr->prompt != NULL)
		prompt_unwatch(pr->prompt, &watcher, pr);
	g_free(pr);
}

static struct prompt_run *prompt_run_of(struct cmd_run *run)
{
	struct prompt_run *pr = cmd_run_state(run);
	if (pr == NULL) {
		pr = g_new0(struct prompt_run, 1);
		pr->run = run;
		cmd_run_set_state(run, pr, prompt_run_free);
	}
	return pr;
}

/* Stops watching and ends the run with NOTE. */
static void finish(struct prompt_run *pr, const char *note)
{
	if (pr->prompt != NULL)
		prompt_unwatch(pr->prompt, &watcher, pr);
	pr->prompt = NULL;
	cmd_run_done(pr->run, note, NULL);
}

static void closed(void *data, struct prompt *p, enum prompt_end end, const char *text)
{
	(void)p;
	struct prompt_run *pr = data;
	pr->prompt = NULL; /* freed after this call */
	bool has_text = text != NULL && *text != '\0';
	const char *note;
	switch (end) {
	case PROMPT_END_ANSWERED:
		note = !pr->answered ? ALREADY_ANSWERED : has_text ? text : "Your answer was taken";
		break;
	case PROMPT_END_CANCELLED:
		/* not by this run (its cancel stops watching first): timed out,
		 * or cancelled by another route; an answer here is not taken */
		cmd_run_fail(pr->run, "item-not-found",
		             has_text ? text
		                      : "The question was cancelled; your answer was not sent");
		return;
	default:
		cmd_run_fail(pr->run, "item-not-found",
		             has_text ? text
		                      : "The question was withdrawn; your answer was not sent");
		return;
	}
	cmd_run_done(pr->run, note, NULL);
}

static void refused(void *data, struct prompt *p, const char *text)
{
	(void)p;
	struct prompt_run *pr = data;
	/* only our own answer waits for this; another route's is its own */
	if (!pr->answered)
		return;
	pr->answered = false;
	cmd_run_refuse(pr->run, text != NULL && *text != '\0' ? text : "That answer was refused");
}

/* P's form as the run's (last) stage, with its pictures. */
static void show_prompt(struct prompt_run *pr, struct prompt *p)
{
	pr->prompt = p;
	prompt_watch(p, &watcher, pr);
	g_autoptr(GPtrArray) media = prompt_attachments(p);
	for (guint i = 0; i < media->len; i++)
		cmd_run_attach(pr->run, g_ptr_array_index(media, i));
	/* the stanzas are the run's now */
	g_ptr_array_set_free_func(media, NULL);
	cmd_run_form(pr->run, prompt_form(p), true);
}

static void answer(struct prompt_run *pr, const struct dataform *values)
{
	if (pr->prompt == NULL || !prompt_answer(pr->prompt, values)) {
		finish(pr, ALREADY_ANSWERED);
		return;
	}
	/* the worker's word ends the run: closed() or refused() */
	pr->answered = true;
}

/* The user cancelled the question's form: the question is cancelled
 * (never its default); an idle or dropped run leaves it open for the
 * other routes. */
static void prompt_cancel(struct cmd_run *run, enum cmd_end why)
{
	struct prompt_run *pr = cmd_run_state(run);
	if (pr == NULL || pr->prompt == NULL)
		return;
	struct prompt *p = pr->prompt;
	prompt_unwatch(p, &watcher, pr);
	pr->prompt = NULL;
	if (why == CMD_END_CANCELED && !pr->answered)
		(void)prompt_answer(p, NULL);
}

/* The prompts command's first stage: which one. */
static void prompts_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	g_autoptr(GPtrArray) open =
	    ctx->prompts != NULL ? prompts_of(ctx->prompts, cmd_run_user(run)) : g_ptr_array_new();
	if (open->len == 0) {
		cmd_run_done(run, "No questions are waiting", NULL);
		return;
	}
	(void)prompt_run_of(run);
	struct dataform *form = dataform_new(DATAFORM_FORM);
	dataform_set_title(form, "Open questions");
	dataform_add_instructions(form, "Pick the question to answer.");
	struct dataform_field *f =
	    dataform_add_field(form, DATAFORM_LIST_SINGLE, "prompt", "Question");
	dataform_field_set_required(f, true);
	for (guint i = 0; i < open->len; i++) {
		const struct prompt *p = g_ptr_array_index(open, i);
		g_autofree char *id = g_strdup_printf("%u", prompt_id(p));
		const char *title = prompt_title(p);
		g_autofree char *label = title != NULL && *title != '\0'
		                             ? g_strdup(title)
		                             : g_strdup_printf("Question %s", id);
		dataform_field_add_option(f, label, id);
		if (i == 0)
			dataform_field_add_value(f, id);
	}
	cmd_run_form(run, form, false);
}

/* The prompt of BARE_JID named by ID (text), or NULL. */
static struct prompt *find(const struct gateway_ctx *ctx, const char *bare_jid, const char *id)
{
	guint64 n = 0;
	if (ctx->prompts == NULL || id == NULL ||
	    !g_ascii_string_to_unsigned(id, 10, 1, G_MAXUINT, &n, NULL))
		return NULL;
	return prompts_find(ctx->prompts, bare_jid, (guint)n);
}

static void prompts_submit(struct cmd_run *run, const struct dataform *values)
{
	struct prompt_run *pr = prompt_run_of(run);
	if (pr->prompt != NULL) {
		answer(pr, values);
		return;
	}
	struct prompt *p =
	    find(cmd_run_ctx(run), cmd_run_user(run), dataform_get_value(values, "prompt"));
	if (p == NULL) {
		cmd_run_done(run, ALREADY_ANSWERED, NULL);
		return;
	}
	show_prompt(pr, p);
}

static const struct cmd_def prompts_def = {
    .node = "prompts",
    .name = "Open questions",
    .word = "prompts",
    .help = "the questions the transport is waiting for you to answer",
    .who = CMD_WHO_REGISTERED,
    .start = prompts_start,
    .submit = prompts_submit,
    .cancel = prompt_cancel,
};

/* prompt/<id>: the question itself from the first stage (ARG: its id). */
static void prompt_start(struct cmd_run *run)
{
	struct prompt *p = find(cmd_run_ctx(run), cmd_run_user(run), cmd_run_arg(run));
	if (p == NULL) {
		cmd_run_fail(run, "item-not-found",
		             "no such question is waiting (it may have been answered already)");
		return;
	}
	show_prompt(prompt_run_of(run), p);
}

static void prompt_submit(struct cmd_run *run, const struct dataform *values)
{
	answer(prompt_run_of(run), values);
}

static const struct cmd_def prompt_def = {
    .node = "prompt",
    .name = "Question",
    .word = NULL,
    .help = "one question the transport is waiting for you to answer",
    /* a registration's check login asks before the user is registered;
     * prompts_find() keeps each user to their own */
    .who = CMD_WHO_ANYONE,
    .start = prompt_start,
    .submit = prompt_submit,
    .cancel = prompt_cancel,
};

const struct cmd_def *cmds_prompt_def(void)
{
	return &prompt_def;
}

void cmds_add_info(struct cmds *cmds)
{
	cmds_add(cmds, &status_def);
	cmds_add(cmds, &contacts_def);
	cmds_add(cmds, &prompts_def);
}
