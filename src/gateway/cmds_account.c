/* cmds_account: the commands about the user's own account (cmd.h):
 * unregister (a confirm stage), relogin (the session logs out and in, the
 * outcome polled for a while), and settings (ferry's preferences of the
 * user, stored with the user's settings under PREF_PREFIX keys, which no
 * registration form field uses). */
#include "config.h"
#include "cmd.h"

#include <string.h>

#include "ferry/secrets.h"
#include "prompts.h"

/* ---- preferences --------------------------------------------------------------------------- */

/* Stored in the user's settings as CMDS_PREF_PREFIX + var ("true"/"false"). */
#define PREF_PREFIX CMDS_PREF_PREFIX

struct pref {
	const char *var;
	const char *label;
	bool fallback;
};

/* The preferences, in the order the settings form shows them. The
 * contacts issue adds receipts here in one line. */
static const struct pref prefs[] = {
    {"notices", "Legacy server notices (MOTD, server messages) as chat from the transport", true},
};

bool cmds_account_pref(const struct gateway_ctx *ctx, const char *bare_jid, const char *var)
{
	const struct pref *pref = NULL;
	for (guint i = 0; i < G_N_ELEMENTS(prefs); i++)
		if (strcmp(prefs[i].var, var) == 0)
			pref = &prefs[i];
	g_return_val_if_fail(pref != NULL, false);
	GHashTable *settings = storage_user_settings(ctx->storage, bare_jid, NULL);
	if (settings == NULL)
		return pref->fallback;
	g_autofree char *key = g_strconcat(PREF_PREFIX, var, NULL);
	const char *v = g_hash_table_lookup(settings, key);
	bool on = v == NULL ? pref->fallback : strcmp(v, "true") == 0;
	g_hash_table_unref(settings);
	return on;
}

static void settings_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_set_title(f, "Settings");
	dataform_add_instructions(f, "Your preferences for this transport.");
	for (guint i = 0; i < G_N_ELEMENTS(prefs); i++) {
		struct dataform_field *field =
		    dataform_add_field(f, DATAFORM_BOOLEAN, prefs[i].var, prefs[i].label);
		bool on = cmds_account_pref(ctx, cmd_run_user(run), prefs[i].var);
		dataform_field_add_value(field, on ? "true" : "false");
	}
	cmd_run_form(run, f, true);
}

static void settings_submit(struct cmd_run *run, const struct dataform *values)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	const char *bare = cmd_run_user(run);
	g_autoptr(GError) err = NULL;
	struct storage_user *user = storage_user_get(ctx->storage, bare, &err);
	if (user == NULL) {
		cmd_run_fail(run, "registration-required", "you are not registered");
		return;
	}
	GString *changed = g_string_new(NULL);
	for (guint i = 0; i < G_N_ELEMENTS(prefs); i++) {
		const char *v = dataform_get_value(values, prefs[i].var);
		if (v == NULL)
			continue;
		g_autofree char *key = g_strconcat(PREF_PREFIX, prefs[i].var, NULL);
		const char *old = g_hash_table_lookup(user->settings, key);
		bool was = old == NULL ? prefs[i].fallback : strcmp(old, "true") == 0;
		bool now = strcmp(v, "true") == 0;
		if (was != now)
			g_string_append_printf(changed, "%s%s %s", changed->len > 0 ? ", " : "",
			                       prefs[i].var, now ? "on" : "off");
		g_hash_table_replace(user->settings, g_steal_pointer(&key), g_strdup(v));
	}
	bool ok = changed->len == 0 ||
	          storage_user_put(ctx->storage, bare, user->settings, user->password, &err);
	storage_user_free(user);
	if (!ok) {
		g_warning("cmds: cannot store the settings of %s: %s", bare, err->message);
		g_string_free(changed, true);
		cmd_run_fail(run, "internal-server-error", "the settings could not be stored");
		return;
	}
	g_autofree char *note = changed->len == 0 ? g_strdup("Nothing was changed.")
	                                          : g_strdup_printf("Changed: %s.", changed->str);
	g_string_free(changed, true);
	cmd_run_done(run, note, NULL);
}

static const struct cmd_def settings_def = {
    .node = "settings",
    .name = "Settings",
    .word = "settings",
    .help = "your preferences for this transport",
    .who = CMD_WHO_REGISTERED,
    .start = settings_start,
    .submit = settings_submit,
};

/* ---- unregister ------------------------------------------------------------------------------ */

static void unregister_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_set_title(f, "Unregister");
	g_autofree char *text = g_strdup_printf(
	    "Your %s account's settings and password are deleted from the transport, and its "
	    "contacts leave your roster.",
	    regform_protocol_name(ctx->form));
	dataform_add_instructions(f, text);
	struct dataform_field *confirm =
	    dataform_add_field(f, DATAFORM_BOOLEAN, "confirm", "Really unregister?");
	dataform_field_set_required(confirm, true);
	cmd_run_form(run, f, true);
}

/* The run waiting for registration_unregister(); cleared by its cancel. */
struct unregister_wait {
	struct cmd_run *run; /* NULL: the run went */
};

static void unregister_done(void *data, bool ok, const char *text)
{
	struct unregister_wait *w = data;
	if (w->run != NULL) {
		struct cmd_run *run = w->run;
		w->run = NULL;
		if (ok)
			cmd_run_done(run,
			             "Unregistered: your account was deleted from the transport.",
			             NULL);
		else
			cmd_run_fail(run, "internal-server-error", text);
	}
	g_free(w);
}

static void unregister_submit(struct cmd_run *run, const struct dataform *values)
{
	if (g_strcmp0(dataform_get_value(values, "confirm"), "true") != 0) {
		cmd_run_done(run, "Nothing was changed.", NULL);
		return;
	}
	struct unregister_wait *w = g_new0(struct unregister_wait, 1);
	w->run = run;
	/* the run points at W while it waits: its cancel lets go */
	cmd_run_set_state(run, w, NULL);
	registration_unregister(cmd_run_ctx(run)->registration, cmd_run_user(run), unregister_done,
	                        w);
}

static void unregister_cancel(struct cmd_run *run, enum cmd_end why)
{
	(void)why;
	struct unregister_wait *w = cmd_run_state(run);
	if (w != NULL)
		w->run = NULL; /* the unregistration goes on; nobody to tell */
}

static const struct cmd_def unregister_def = {
    .node = "unregister",
    .name = "Unregister",
    .word = "unregister",
    .help = "delete your account from this transport",
    .who = CMD_WHO_REGISTERED,
    .start = unregister_start,
    .submit = unregister_submit,
    .cancel = unregister_cancel,
};

/* ---- relogin ------------------------------------------------------------------------------------ */

/* How long relogin waits for the outcome, polling the session (the new
 * login starts once the old connection is gone: session_relogin). */
#define RELOGIN_WAIT_MS 20000
#define RELOGIN_POLL_MS 250

struct relogin {
	struct cmd_run *run;
	guint timer;
	guint polls;
};

static void relogin_free(void *data)
{
	struct relogin *r = data;
	g_clear_handle_id(&r->timer, g_source_remove);
	g_free(r);
}

static gboolean relogin_poll(gpointer data)
{
	struct relogin *r = data;
	struct cmd_run *run = r->run;
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	const char *network = regform_protocol_name(ctx->form);
	struct session *s = sessions_get(ctx->sessions, cmd_run_user(run), false);
	enum session_state state = s != NULL ? session_state(s) : SESSION_OFFLINE;
	r->polls++;
	g_autofree char *note = NULL;
	/* RECONNECTING without a failure is the relogin's own login (the
	 * session was online); with one, that login was lost */
	bool lost = state == SESSION_RECONNECTING && session_failure(s) != NULL;
	if (state == SESSION_ONLINE)
		note = g_strdup_printf("Signed on to %s as %s.", network, session_nick(s));
	else if (state == SESSION_FAILED || state == SESSION_OFFLINE || lost)
		note = g_strdup_printf("The login to %s failed: %s", network,
		                       s != NULL && session_failure(s) != NULL ? session_failure(s)
		                                                               : "no reason given");
	else if (r->polls * RELOGIN_POLL_MS >= RELOGIN_WAIT_MS)
		note = g_strdup_printf("Still connecting to %s; your contacts come online when it "
		                       "signs on.",
		                       network);
	if (note == NULL)
		return G_SOURCE_CONTINUE;
	r->timer = 0;
	cmd_run_done(run, note, NULL);
	return G_SOURCE_REMOVE;
}

static void relogin_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct session *s = sessions_get(ctx->sessions, cmd_run_user(run), false);
	if (s == NULL || !session_user_available(s)) {
		cmd_run_fail(run, "not-allowed",
		             "you are not online with the transport; send it your presence first");
		return;
	}
	session_relogin(s);
	struct relogin *r = g_new0(struct relogin, 1);
	r->run = run;
	cmd_run_set_state(run, r, relogin_free);
	r->timer = g_timeout_add(RELOGIN_POLL_MS, relogin_poll, r);
}

static void relogin_submit(struct cmd_run *run, const struct dataform *values)
{
	(void)values;
	cmd_run_refuse(run, "still logging in");
}

static const struct cmd_def relogin_def = {
    .node = "relogin",
    .name = "Log in again",
    .word = "relogin",
    .help = "log out of the legacy network and in again",
    .who = CMD_WHO_REGISTERED,
    .start = relogin_start,
    .submit = relogin_submit,
};

/* ---- jabber:iq:register ------------------------------------------------------------------------ */

/* A register run: stage 1 the registration form, then the check login's
 * prompts, each its own stage, then the outcome. */
struct register_run {
	struct cmd_run *run;   /* NULL once the run went */
	bool checking;         /* registration_check() under way */
	struct prompt *prompt; /* the prompt shown as the current stage, watched */
};

static const struct prompt_watcher register_watcher;

static void register_unwatch(struct register_run *rr)
{
	if (rr->prompt != NULL)
		prompt_unwatch(rr->prompt, &register_watcher, rr);
	rr->prompt = NULL;
}

static void register_run_free(void *data)
{
	struct register_run *rr = data;
	register_unwatch(rr);
	g_free(rr);
}

static void register_start(struct cmd_run *run)
{
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct register_run *rr = g_new0(struct register_run, 1);
	rr->run = run;
	cmd_run_set_state(run, rr, register_run_free);
	GHashTable *values = storage_user_settings(ctx->storage, cmd_run_user(run), NULL);
	struct dataform *f = regform_dataform(ctx->form, values, values != NULL);
	if (values != NULL)
		g_hash_table_unref(values);
	cmd_run_form(run, f, false);
}

/* The check login raised P: it is the run's next stage. */
static bool register_on_prompt(void *data, struct prompt *p)
{
	struct register_run *rr = data;
	if (rr->run == NULL)
		return false;
	register_unwatch(rr);
	rr->prompt = p;
	prompt_watch(p, &register_watcher, rr);
	GPtrArray *att = prompt_attachments(p);
	while (att != NULL && att->len > 0)
		cmd_run_attach(rr->run, g_ptr_array_steal_index(att, 0));
	if (att != NULL)
		g_ptr_array_unref(att);
	cmd_run_form(rr->run, prompt_form(p), false);
	return true;
}

static void register_on_done(void *data, bool ok, const char *nick, const char *condition,
                             const char *text)
{
	struct register_run *rr = data;
	rr->checking = false;
	if (rr->run == NULL)
		return;
	register_unwatch(rr);
	if (!ok) {
		cmd_run_fail(rr->run, condition, text);
		return;
	}
	const struct gateway_ctx *ctx = cmd_run_ctx(rr->run);
	g_autofree char *note = g_strdup_printf("Registered: signed on to %s as %s.",
	                                        regform_protocol_name(ctx->form), nick);
	cmd_run_done(rr->run, note, NULL);
}

static const struct registration_requester register_requester = {register_on_prompt,
                                                                 register_on_done};

static void prompt_closed(void *data, struct prompt *p, enum prompt_end end, const char *text)
{
	struct register_run *rr = data;
	(void)p;
	rr->prompt = NULL; /* freed after this */
	if (end == PROMPT_END_ANSWERED || rr->run == NULL)
		return; /* the check goes on: its next prompt or its outcome */
	struct cmd_run *run = rr->run;
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	if (rr->checking) {
		rr->checking = false;
		registration_abandon(ctx->registration, cmd_run_user(run), rr);
	}
	cmd_run_fail(run, "not-acceptable",
	             text != NULL && *text != '\0' ? text : "The question was withdrawn.");
}

static void prompt_refused(void *data, struct prompt *p, const char *text)
{
	struct register_run *rr = data;
	(void)p;
	if (rr->run != NULL)
		cmd_run_refuse(rr->run, text);
}

static const struct prompt_watcher register_watcher = {prompt_closed, prompt_refused};

static void register_submit(struct cmd_run *run, const struct dataform *values)
{
	struct register_run *rr = cmd_run_state(run);
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	if (rr->prompt != NULL) {
		if (!prompt_answer(rr->prompt, values))
			cmd_run_refuse(run, "That question is no longer open.");
		return; /* its close, then the next stage or the outcome */
	}
	if (rr->checking) {
		cmd_run_refuse(run, "The login is still being checked.");
		return;
	}
	bool registered = cmds_is_registered(cmd_run_cmds(run), cmd_run_user(run));
	GHashTable *settings = NULL;
	char *password = NULL;
	g_autoptr(GError) err = NULL;
	if (!regform_read(ctx->form, values, registered, &settings, &password, &err)) {
		cmd_run_refuse(run, err->message);
		return;
	}
	const char *condition = NULL;
	g_autofree char *text = NULL;
	rr->checking = registration_check(ctx->registration, cmd_run_user(run), settings, password,
	                                  &register_requester, rr, &condition, &text);
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
	if (!rr->checking)
		cmd_run_fail(run, condition, text);
}

static void register_cancel(struct cmd_run *run, enum cmd_end why)
{
	(void)why;
	struct register_run *rr = cmd_run_state(run);
	if (rr == NULL)
		return;
	const struct gateway_ctx *ctx = cmd_run_ctx(run);
	struct prompt *p = rr->prompt;
	register_unwatch(rr);
	rr->run = NULL;
	if (p != NULL)
		(void)prompt_answer(p, NULL); /* the user cancelled its question too */
	if (rr->checking)
		registration_abandon(ctx->registration, cmd_run_user(run), rr);
	rr->checking = false;
}

static const struct cmd_def register_def = {
    .node = NS_REGISTER,
    .name = "Register",
    .word = "register",
    .help = "register your legacy account with this transport, or change it",
    .who = CMD_WHO_ANYONE,
    .start = register_start,
    .submit = register_submit,
    .cancel = register_cancel,
};

/* ---- registration ----------------------------------------------------------------------------- */

void cmds_add_account(struct cmds *cmds)
{
	cmds_add(cmds, &register_def);
	cmds_add(cmds, &unregister_def);
	cmds_add(cmds, &relogin_def);
	cmds_add(cmds, &settings_def);
}
