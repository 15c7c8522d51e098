/* cmd: the registry of the transport's commands and their runs (cmd.h).
 * The registry knows who may run what (the role from [access] admins and
 * the storage); a run carries one command's stages from the front-end to
 * the command and back, checks every submission against the stage's
 * form, expires when idle, and is freed from the main loop after it
 * ended, never inside the call that ended it. */
#include "config.h"
#include "cmd.h"

#include <string.h>

/* How many runs one user may have open at once; the next is refused
 * (resource-constraint). */
#define CMD_RUNS_PER_USER 10
/* How many idle periods a run waits for its command's answer (a check
 * login, a relogin) before it expires all the same. */
#define CMD_WORK_WAITS 4

struct cmds {
	const struct gateway_ctx *ctx;
	GPtrArray *defs; /* const struct cmd_def *, borrowed, in order */
	GPtrArray *live; /* struct cmd_run *, not ended */
	GPtrArray *dead; /* struct cmd_run *, ended, freed from the main loop */
	guint reap;      /* the idle source that frees DEAD, 0 none */
};

struct cmd_run {
	struct cmds *cmds;
	const struct cmd_def *def;
	char *id;
	char *full;
	char *bare;
	char *arg;
	enum cmd_role role;
	void *state;
	GDestroyNotify state_free;
	struct dataform *current; /* the stage shown, NULL before the first */
	bool last;
	bool working;           /* the command works on a submission */
	GPtrArray *attachments; /* struct stanza *, for the next stage */
	const struct cmd_sink *sink;
	void *sink_data;
	bool ended;
	guint idle;       /* the expiry timer, 0 none */
	guint work_waits; /* idle periods passed while the command worked */
};

/* Process-wide: run ids are never reused, whatever registry made them. */
static guint64 run_counter;

/* ---- the registry ------------------------------------------------------------------ */

struct cmds *cmds_new(const struct gateway_ctx *ctx)
{
	struct cmds *cmds = g_new0(struct cmds, 1);
	cmds->ctx = ctx;
	cmds->defs = g_ptr_array_new();
	cmds->live = g_ptr_array_new();
	cmds->dead = g_ptr_array_new();
	return cmds;
}

static void run_free(struct cmd_run *run)
{
	if (run->idle != 0)
		g_source_remove(run->idle);
	if (run->state_free != NULL && run->state != NULL)
		run->state_free(run->state);
	dataform_free(run->current);
	g_ptr_array_unref(run->attachments);
	g_free(run->id);
	g_free(run->full);
	g_free(run->bare);
	g_free(run->arg);
	g_free(run);
}

static void reap_now(struct cmds *cmds)
{
	while (cmds->dead->len > 0)
		run_free(g_ptr_array_remove_index(cmds->dead, cmds->dead->len - 1));
}

void cmds_free(struct cmds *cmds)
{
	if (cmds == NULL)
		return;
	while (cmds->live->len > 0)
		cmd_run_drop(g_ptr_array_index(cmds->live, cmds->live->len - 1));
	if (cmds->reap != 0)
		g_source_remove(cmds->reap);
	reap_now(cmds);
	g_ptr_array_unref(cmds->live);
	g_ptr_array_unref(cmds->dead);
	g_ptr_array_unref(cmds->defs);
	g_free(cmds);
}

void cmds_add(struct cmds *cmds, const struct cmd_def *def)
{
	g_return_if_fail(cmds != NULL && def != NULL && def->node != NULL);
	g_ptr_array_add(cmds->defs, (gpointer)def);
}

#define PROMPT_NODE_PREFIX "prompt/"

const struct cmd_def *cmds_find_node(const struct cmds *cmds, const char *node, const char **arg)
{
	if (arg != NULL)
		*arg = NULL;
	if (node == NULL)
		return NULL;
	if (g_str_has_prefix(node, PROMPT_NODE_PREFIX)) {
		const char *id = node + strlen(PROMPT_NODE_PREFIX);
		if (*id == '\0')
			return NULL;
		if (arg != NULL)
			*arg = id;
		return cmds_prompt_def();
	}
	for (guint i = 0; i < cmds->defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(cmds->defs, i);
		if (strcmp(def->node, node) == 0)
			return def;
	}
	return NULL;
}

const GPtrArray *cmds_defs(const struct cmds *cmds)
{
	return cmds->defs;
}

const struct cmd_def *cmds_find_word(const struct cmds *cmds, const char *word)
{
	if (word == NULL)
		return NULL;
	for (guint i = 0; i < cmds->defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(cmds->defs, i);
		if (def->word != NULL && g_ascii_strcasecmp(def->word, word) == 0)
			return def;
	}
	return NULL;
}

/* BARE as JIDs compare: domain and localpart case-insensitively (the
 * localpart's case folding of PRECIS, approximated by Unicode casefold).
 * Caller frees; NULL for what is not a JID. */
static char *jid_key(const char *bare)
{
	g_autofree char *b = jid_bare_of(bare);
	if (b == NULL)
		return NULL;
	return g_utf8_casefold(b, -1);
}

static bool is_admin(const struct cmds *cmds, const char *bare_jid)
{
	char *const *admins = cmds->ctx->settings->admins;
	if (admins == NULL || bare_jid == NULL)
		return false;
	g_autofree char *key = jid_key(bare_jid);
	if (key == NULL)
		return false;
	for (guint i = 0; admins[i] != NULL; i++) {
		g_autofree char *admin = jid_key(admins[i]);
		if (admin != NULL && strcmp(admin, key) == 0)
			return true;
	}
	return false;
}

bool cmds_is_registered(const struct cmds *cmds, const char *bare_jid)
{
	if (bare_jid == NULL)
		return false;
	GHashTable *settings = storage_user_settings(cmds->ctx->storage, bare_jid, NULL);
	if (settings == NULL)
		return false;
	g_hash_table_unref(settings);
	return true;
}

enum cmd_role cmds_role(const struct cmds *cmds, const char *bare_jid)
{
	if (is_admin(cmds, bare_jid))
		return CMD_ROLE_ADMIN;
	return cmds_is_registered(cmds, bare_jid) ? CMD_ROLE_USER : CMD_ROLE_STRANGER;
}

/* Whether a requester who is ADMIN and REGISTERED may run DEF. */
static bool allowed(const struct cmd_def *def, bool admin, bool registered)
{
	switch (def->who) {
	case CMD_WHO_ANYONE:
		return true;
	case CMD_WHO_REGISTERED:
		return registered;
	case CMD_WHO_ADMIN:
		return admin;
	}
	return false;
}

bool cmds_may_run(const struct cmds *cmds, const struct cmd_def *def, const char *bare_jid)
{
	return allowed(def, is_admin(cmds, bare_jid), cmds_is_registered(cmds, bare_jid));
}

GPtrArray *cmds_allowed(const struct cmds *cmds, const char *bare_jid)
{
	bool admin = is_admin(cmds, bare_jid);
	bool registered = cmds_is_registered(cmds, bare_jid);
	GPtrArray *out = g_ptr_array_new();
	for (guint i = 0; i < cmds->defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(cmds->defs, i);
		if (allowed(def, admin, registered))
			g_ptr_array_add(out, (gpointer)def);
	}
	return out;
}

/* ---- runs: life and death -------------------------------------------------------------- */

static gboolean reap_cb(gpointer data)
{
	struct cmds *cmds = data;
	cmds->reap = 0;
	reap_now(cmds);
	return G_SOURCE_REMOVE;
}

/* Ends RUN: the sink hears WHY, then the run waits in DEAD for the main
 * loop. */
static void run_end(struct cmd_run *run, enum cmd_end why, const char *note,
                    const struct dataform *result, const char *condition)
{
	if (run->ended)
		return;
	run->ended = true;
	if (run->idle != 0) {
		g_source_remove(run->idle);
		run->idle = 0;
	}
	struct cmds *cmds = run->cmds;
	g_ptr_array_remove(cmds->live, run);
	g_ptr_array_add(cmds->dead, run);
	if (cmds->reap == 0)
		cmds->reap = g_idle_add(reap_cb, cmds);
	if (run->sink != NULL && run->sink->ended != NULL)
		run->sink->ended(run->sink_data, run, why, note, result, condition);
}

/* The run ends before its command ended it: the command stops first. */
static void run_abort(struct cmd_run *run, enum cmd_end why)
{
	if (run->ended)
		return;
	if (run->def->cancel != NULL)
		run->def->cancel(run, why);
	run_end(run, why, NULL, NULL, NULL);
}

static void arm(struct cmd_run *run);

static gboolean idle_cb(gpointer data)
{
	struct cmd_run *run = data;
	run->idle = 0;
	if ((run->current == NULL || run->working) && run->work_waits < CMD_WORK_WAITS) {
		/* the command works on the user's last step (a check login, a
		 * relogin): the user waits for it, and is not idle */
		run->work_waits++;
		arm(run);
		return G_SOURCE_REMOVE;
	}
	g_info("cmd: run %s of %s expired", run->id, run->def->node);
	run_abort(run, CMD_END_EXPIRED);
	return G_SOURCE_REMOVE;
}

static void arm(struct cmd_run *run)
{
	if (run->idle != 0)
		g_source_remove(run->idle);
	guint seconds = run->cmds->ctx->settings->command_idle_seconds;
	if (seconds == 0)
		seconds = CMD_IDLE_SECONDS;
	run->idle = g_timeout_add((guint)MIN((guint64)seconds * 1000, G_MAXUINT), idle_cb, run);
}

/* The user did something, or was asked something: the idle expiry starts
 * again. */
static void touch(struct cmd_run *run)
{
	run->work_waits = 0;
	arm(run);
}

static guint runs_of(const struct cmds *cmds, const char *bare)
{
	guint n = 0;
	for (guint i = 0; i < cmds->live->len; i++) {
		const struct cmd_run *run = g_ptr_array_index(cmds->live, i);
		if (strcmp(run->bare, bare) == 0)
			n++;
	}
	return n;
}

struct cmd_run *cmd_run_start(struct cmds *cmds, const struct cmd_def *def, const char *full_jid,
                              const char *arg, const struct cmd_sink *sink, void *sink_data)
{
	g_return_val_if_fail(cmds != NULL && def != NULL && full_jid != NULL, NULL);
	struct cmd_run *run = g_new0(struct cmd_run, 1);
	run->cmds = cmds;
	run->def = def;
	guint32 r1 = g_random_int(), r2 = g_random_int();
	run->id = g_strdup_printf("%" G_GUINT64_FORMAT "-%08x%08x", ++run_counter, r1, r2);
	run->full = g_strdup(full_jid);
	run->bare = jid_bare_of(full_jid);
	if (run->bare == NULL)
		run->bare = g_strdup(full_jid);
	run->arg = g_strdup(arg);
	run->role = cmds_role(cmds, run->bare);
	run->attachments = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	run->sink = sink;
	run->sink_data = sink_data;
	bool crowded = runs_of(cmds, run->bare) >= CMD_RUNS_PER_USER;
	g_ptr_array_add(cmds->live, run);
	if (crowded) {
		run_end(run, CMD_END_FAILED,
		        "Too many commands are running for you; finish or "
		        "cancel one first.",
		        NULL, "resource-constraint");
		return run;
	}
	touch(run);
	def->start(run);
	return run;
}

void cmd_run_submit(struct cmd_run *run, const struct dataform *submission)
{
	if (run == NULL || run->ended)
		return;
	touch(run);
	if (submission != NULL && dataform_get_type(submission) == DATAFORM_CANCEL) {
		cmd_run_cancel(run);
		return;
	}
	if (run->current == NULL || run->working) {
		if (run->sink != NULL && run->sink->refused != NULL)
			run->sink->refused(run->sink_data, run, "Still working on the last step.");
		return;
	}
	struct dataform *empty = submission == NULL ? dataform_new(DATAFORM_SUBMIT) : NULL;
	g_autoptr(GError) error = NULL;
	struct dataform *values =
	    dataform_check(run->current, submission != NULL ? submission : empty, &error);
	dataform_free(empty);
	if (values == NULL) {
		if (run->sink != NULL && run->sink->refused != NULL)
			run->sink->refused(run->sink_data, run, error->message);
		return;
	}
	run->working = true;
	g_ptr_array_set_size(run->attachments, 0);
	run->def->submit(run, values);
	dataform_free(values);
}

void cmd_run_touch(struct cmd_run *run)
{
	if (run != NULL && !run->ended)
		touch(run);
}

void cmd_run_cancel(struct cmd_run *run)
{
	if (run != NULL)
		run_abort(run, CMD_END_CANCELED);
}

void cmd_run_drop(struct cmd_run *run)
{
	if (run != NULL)
		run_abort(run, CMD_END_GONE);
}

bool cmd_run_ended(const struct cmd_run *run)
{
	return run->ended;
}

const struct dataform *cmd_run_current(const struct cmd_run *run)
{
	return run->working ? NULL : run->current;
}

bool cmd_run_last(const struct cmd_run *run)
{
	return run->last;
}

const char *cmd_run_id(const struct cmd_run *run)
{
	return run->id;
}

const GPtrArray *cmd_run_attachments(const struct cmd_run *run)
{
	return run->attachments;
}

/* ---- runs, for the commands ------------------------------------------------------------------ */

const struct gateway_ctx *cmd_run_ctx(const struct cmd_run *run)
{
	return run->cmds->ctx;
}

struct cmds *cmd_run_cmds(const struct cmd_run *run)
{
	return run->cmds;
}

const struct cmd_def *cmd_run_def(const struct cmd_run *run)
{
	return run->def;
}

const char *cmd_run_user(const struct cmd_run *run)
{
	return run->bare;
}

const char *cmd_run_full(const struct cmd_run *run)
{
	return run->full;
}

const char *cmd_run_arg(const struct cmd_run *run)
{
	return run->arg;
}

enum cmd_role cmd_run_role(const struct cmd_run *run)
{
	return run->role;
}

void *cmd_run_state(const struct cmd_run *run)
{
	return run->state;
}

void cmd_run_set_state(struct cmd_run *run, void *state, GDestroyNotify free)
{
	g_return_if_fail(run->state == NULL);
	run->state = state;
	run->state_free = free;
}

void cmd_run_form(struct cmd_run *run, struct dataform *form, bool last)
{
	if (run->ended) {
		dataform_free(form);
		return;
	}
	dataform_free(run->current);
	run->current = form;
	run->last = last;
	run->working = false;
	touch(run); /* the user's time to answer starts now */
	if (run->sink != NULL && run->sink->stage != NULL)
		run->sink->stage(run->sink_data, run, form, last);
}

void cmd_run_attach(struct cmd_run *run, struct stanza *stanza)
{
	g_ptr_array_add(run->attachments, stanza);
}

void cmd_run_refuse(struct cmd_run *run, const char *text)
{
	if (run->ended)
		return;
	run->working = false;
	touch(run);
	if (run->sink != NULL && run->sink->refused != NULL)
		run->sink->refused(run->sink_data, run, text);
}

void cmd_run_done(struct cmd_run *run, const char *note, struct dataform *result)
{
	run_end(run, CMD_END_COMPLETED, note, result, NULL);
	dataform_free(result);
}

void cmd_run_fail(struct cmd_run *run, const char *condition, const char *text)
{
	run_end(run, CMD_END_FAILED, text, NULL, condition);
}
