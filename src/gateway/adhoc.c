/* adhoc: XEP-0050 ad-hoc commands on the transport's bare and full JID,
 * a front-end of cmd.h. disco#items on the commands node lists what the
 * asker may run (and their open prompts as prompt/<id>), each command node
 * answers disco#info, and an execute iq starts, advances or cancels a run.
 * A run is bound to the full JID that started it; its session id is the
 * run's id. The iq that is being answered is held until the command
 * shows its next stage or ends, at most CMD_HOLD_SECONDS; then the client
 * hears "still working" and executes again to get the stage.
 *
 * A run whose requester's resource goes unavailable is kept until its
 * idle expiry: the client may come back with the same full JID. */
#include "config.h"
#include "cmd.h"

#include <string.h>

#include "prompts.h"

/* How many ended session ids are remembered (for session-expired, and
 * for the outcome of a run that ended while no iq waited). */
#define ADHOC_EXPIRED_MAX 4096

struct adhoc {
	const struct gateway_ctx *ctx;
	struct cmds *cmds;
	GHashTable *live;     /* session id -> struct ahs */
	GHashTable *expired;  /* session id -> struct ended */
	GQueue expired_order; /* char * ids, oldest first (keys of EXPIRED) */
};

/* One run as XEP-0050 sees it. */
struct ahs {
	struct adhoc *adhoc;
	struct cmd_run *run;
	char *id;
	char *owner; /* the full JID that started it */
	char *node;
	struct stanza *held; /* the iq being answered (a copy), NULL none */
	guint hold;          /* the hold timer, 0 none */
	bool unseen;         /* a stage came with no iq held: the next execute gets it */
	bool last;           /* the current stage is the last */
};

static void session_free(struct ahs *s)
{
	if (s->hold != 0)
		g_source_remove(s->hold);
	stanza_free(s->held);
	g_free(s->id);
	g_free(s->owner);
	g_free(s->node);
	g_free(s);
}

/* ---- replies -------------------------------------------------------------------------- */

/* An iq error to IQ: CONDITION, TEXT, and the XEP-0050 SPECIFIC child
 * (NULL none). */
static void send_error(struct adhoc *a, const struct stanza *iq, const char *condition,
                       const char *specific, const char *text)
{
	struct stanza *e = stanza_new_error(iq, NULL, condition, text, false);
	if (specific != NULL)
		stanza_add_child(stanza_find_child(e, "error", NULL), specific, NS_COMMANDS);
	router_send(a->ctx->router, e);
}

/* A result to IQ carrying <command/> of session S in STATUS; returns the
 * <command/> to fill in and *REPLY to send. */
static struct stanza *command_reply(const struct stanza *iq, const struct ahs *s,
                                    const char *status, struct stanza **reply)
{
	*reply = stanza_new_reply(iq, "result");
	struct stanza *c = stanza_add_child(*reply, "command", NS_COMMANDS);
	stanza_set_attr(c, "node", s->node);
	stanza_set_attr(c, "sessionid", cmd_run_id(s->run));
	stanza_set_attr(c, "status", status);
	return c;
}

static void add_actions(struct stanza *c, bool last)
{
	const char *execute = last ? "complete" : "next";
	struct stanza *actions = stanza_add_child(c, "actions", NULL);
	stanza_set_attr(actions, "execute", execute);
	stanza_add_child(actions, execute, NULL);
}

static void add_note(struct stanza *c, const char *type, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	stanza_set_attr(stanza_add_text_child(c, "note", text), "type", type);
}

/* The held iq of S, taken (the hold timer stops), or NULL. */
static struct stanza *take_held(struct ahs *s)
{
	if (s->hold != 0) {
		g_source_remove(s->hold);
		s->hold = 0;
	}
	struct stanza *iq = s->held;
	s->held = NULL;
	return iq;
}

/* Answers IQ with the current stage of S. */
static void send_stage(struct ahs *s, const struct stanza *iq)
{
	const struct dataform *form = cmd_run_current(s->run);
	struct stanza *reply;
	struct stanza *c = command_reply(iq, s, "executing", &reply);
	add_actions(c, s->last);
	if (form != NULL)
		dataform_add_to(form, c);
	const GPtrArray *att = cmd_run_attachments(s->run);
	for (guint i = 0; att != NULL && i < att->len; i++)
		stanza_add_child_take(c, stanza_copy(g_ptr_array_index(att, i)));
	router_send(s->adhoc->ctx->router, reply);
}

static gboolean hold_cb(gpointer data)
{
	struct ahs *s = data;
	s->hold = 0;
	struct stanza *iq = take_held(s);
	struct stanza *reply;
	struct stanza *c = command_reply(iq, s, "executing", &reply);
	add_actions(c, s->last);
	add_note(c, "info", "Still working on it; execute again in a moment for the answer.");
	router_send(s->adhoc->ctx->router, reply);
	stanza_free(iq);
	return G_SOURCE_REMOVE;
}

/* Holds IQ for S's next stage or end. */
static void hold(struct ahs *s, const struct stanza *iq)
{
	stanza_free(take_held(s));
	s->held = stanza_copy(iq);
	s->hold = g_timeout_add_seconds(CMD_HOLD_SECONDS, hold_cb, s);
}

/* ---- the sink --------------------------------------------------------------------------- */

static void on_stage(void *data, struct cmd_run *run, const struct dataform *form, bool last)
{
	struct ahs *s = data;
	s->run = run; /* inside cmd_run_start() it is not set yet */
	(void)form;
	s->last = last;
	struct stanza *iq = take_held(s);
	if (iq == NULL) {
		s->unseen = true;
		return;
	}
	s->unseen = false;
	send_stage(s, iq);
	stanza_free(iq);
}

static void on_refused(void *data, struct cmd_run *run, const char *text)
{
	struct ahs *s = data;
	s->run = run; /* inside cmd_run_start() it is not set yet */
	struct stanza *iq = take_held(s);
	if (iq == NULL)
		return;
	send_error(s->adhoc, iq, "bad-request", "bad-payload", text);
	stanza_free(iq);
}

/* A run that ended while no iq of its client waited: the next execute
 * hears how (then it is forgotten; an expiry is remembered longer). */
struct ended {
	char *owner;
	enum cmd_end why;
	char *note;
	char *condition;
};

static void ended_free(void *data)
{
	struct ended *e = data;
	g_free(e->owner);
	g_free(e->note);
	g_free(e->condition);
	g_free(e);
}

static void remember_ended(struct adhoc *a, const struct ahs *s, enum cmd_end why, const char *note,
                           const char *condition)
{
	if (g_queue_get_length(&a->expired_order) >= ADHOC_EXPIRED_MAX) {
		char *old = g_queue_pop_head(&a->expired_order);
		g_hash_table_remove(a->expired, old); /* frees OLD (the key) */
	}
	char *id = g_strdup(s->id);
	struct ended *e = g_new0(struct ended, 1);
	e->owner = g_strdup(s->owner);
	e->why = why;
	e->note = g_strdup(note);
	e->condition = g_strdup(condition);
	g_hash_table_insert(a->expired, id, e);
	g_queue_push_tail(&a->expired_order, id);
}

static void on_ended(void *data, struct cmd_run *run, enum cmd_end why, const char *note,
                     const struct dataform *result, const char *condition)
{
	struct ahs *s = data;
	s->run = run; /* inside cmd_run_start() it is not set yet */
	struct adhoc *a = s->adhoc;
	struct stanza *iq = take_held(s);
	if (iq != NULL) {
		struct stanza *reply = NULL;
		struct stanza *c;
		switch (why) {
		case CMD_END_COMPLETED:
			c = command_reply(iq, s, "completed", &reply);
			add_note(c, "info", note);
			if (result != NULL)
				dataform_add_to(result, c);
			break;
		case CMD_END_CANCELED:
			command_reply(iq, s, "canceled", &reply);
			break;
		case CMD_END_FAILED:
			send_error(a, iq, condition != NULL ? condition : "internal-server-error",
			           NULL, note);
			break;
		case CMD_END_EXPIRED:
			send_error(a, iq, "not-allowed", "session-expired", "the command expired");
			break;
		case CMD_END_GONE:
			send_error(a, iq, "service-unavailable", NULL,
			           "the transport is shutting down");
			break;
		}
		if (reply != NULL)
			router_send(a->ctx->router, reply);
		stanza_free(iq);
	} else if (why != CMD_END_GONE && s->id != NULL) {
		remember_ended(a, s, why, note, condition);
	}
	if (s->id != NULL) /* NULL: ended inside cmd_run_start(), start() frees it */
		g_hash_table_remove(a->live, s->id); /* frees S */
}

static const struct cmd_sink sink = {on_stage, on_refused, on_ended};

/* ---- execute ------------------------------------------------------------------------------ */

static void start(struct adhoc *a, const struct stanza *iq, const char *node, const char *from)
{
	const char *arg = NULL;
	const struct cmd_def *def = cmds_find_node(a->cmds, node, &arg);
	g_autofree char *bare = jid_bare_of(from);
	if (def == NULL) {
		send_error(a, iq, "item-not-found", NULL, "no such command");
		return;
	}
	if (!cmds_may_run(a->cmds, def, bare)) {
		send_error(a, iq, "forbidden", NULL, "you may not run this command");
		return;
	}
	struct ahs *s = g_new0(struct ahs, 1);
	s->adhoc = a;
	s->owner = g_strdup(from);
	s->node = g_strdup(node);
	s->held = stanza_copy(iq);
	s->run = cmd_run_start(a->cmds, def, from, arg, &sink, s);
	if (cmd_run_ended(s->run)) {
		session_free(s); /* on_ended answered; S was in no table yet */
		return;
	}
	s->id = g_strdup(cmd_run_id(s->run));
	g_hash_table_insert(a->live, s->id, s);
	if (s->held != NULL) /* the command answers later */
		s->hold = g_timeout_add_seconds(CMD_HOLD_SECONDS, hold_cb, s);
}

/* Answers IQ (its <command/> CMD) with how the run of session ID ended
 * (E); forgotten then, unless it expired. */
static void tell_ended(struct adhoc *a, const struct stanza *iq, const struct stanza *cmd, char *id,
                       const struct ended *e)
{
	if (e->why == CMD_END_EXPIRED) {
		send_error(a, iq, "not-allowed", "session-expired", "the command expired");
		return;
	}
	if (e->why == CMD_END_FAILED) {
		send_error(a, iq, e->condition != NULL ? e->condition : "internal-server-error",
		           NULL, e->note);
	} else {
		struct stanza *reply = stanza_new_reply(iq, "result");
		struct stanza *c = stanza_add_child(reply, "command", NS_COMMANDS);
		stanza_set_attr(c, "node", stanza_get_attr(cmd, "node"));
		stanza_set_attr(c, "sessionid", id);
		stanza_set_attr(c, "status",
		                e->why == CMD_END_COMPLETED ? "completed" : "canceled");
		add_note(c, "info", e->note);
		router_send(a->ctx->router, reply);
	}
	g_queue_remove(&a->expired_order, id);
	g_hash_table_remove(a->expired, id); /* frees ID and E */
}

static void execute(struct adhoc *a, const struct stanza *iq, const struct stanza *cmd,
                    const char *from)
{
	const char *id = stanza_get_attr(cmd, "sessionid");
	struct ahs *s = g_hash_table_lookup(a->live, id);
	if (s == NULL || strcmp(s->owner, from) != 0) {
		gpointer key = NULL, value = NULL;
		bool known =
		    s == NULL && g_hash_table_lookup_extended(a->expired, id, &key, &value);
		struct ended *e = value;
		if (known && strcmp(e->owner, from) == 0)
			tell_ended(a, iq, cmd, key, e);
		else
			send_error(a, iq, "bad-request", "bad-sessionid", "no such session");
		return;
	}
	const char *action = stanza_get_attr(cmd, "action");
	if (g_strcmp0(action, "cancel") == 0) {
		/* also while a step is being worked on: the iq held for it
		 * hears canceled as well */
		struct stanza *earlier = take_held(s);
		if (earlier != NULL) {
			struct stanza *reply;
			command_reply(earlier, s, "canceled", &reply);
			router_send(a->ctx->router, reply);
			stanza_free(earlier);
		}
		hold(s, iq);
		cmd_run_cancel(s->run);
		return;
	}
	if (s->held != NULL) {
		send_error(a, iq, "unexpected-request", NULL,
		           "the last step is still being answered");
		return;
	}
	const char *offered = s->last ? "complete" : "next";
	if (action == NULL || strcmp(action, "execute") == 0)
		action = offered;
	if (strcmp(action, offered) != 0) {
		send_error(a, iq, "bad-request", "bad-action", "that action is not offered");
		return;
	}
	if (s->unseen || cmd_run_current(s->run) == NULL) {
		/* the client has not seen the stage yet (or it is still coming) */
		if (s->unseen) {
			s->unseen = false;
			send_stage(s, iq);
		} else {
			hold(s, iq);
		}
		return;
	}
	struct dataform *form = NULL;
	const struct stanza *x = stanza_find_child(cmd, "x", NS_DATA);
	if (x != NULL) {
		g_autoptr(GError) error = NULL;
		form = dataform_parse(x, &error);
		if (form == NULL) {
			send_error(a, iq, "bad-request", "bad-payload", error->message);
			return;
		}
	}
	hold(s, iq);
	cmd_run_submit(s->run, form); /* S may be gone after this */
	dataform_free(form);
}

static enum router_result on_command(struct router *router, const struct stanza *iq, void *data)
{
	struct adhoc *a = data;
	const struct stanza *cmd = stanza_find_child(iq, "command", NS_COMMANDS);
	if (cmd == NULL || !router_to_transport(router, iq))
		return ROUTER_PASS;
	const char *from = stanza_get_from(iq);
	const char *node = stanza_get_attr(cmd, "node");
	if (g_strcmp0(stanza_get_type(iq), "set") != 0 || from == NULL || node == NULL) {
		send_error(a, iq, "bad-request", NULL, "an execute needs a node");
		return ROUTER_HANDLED;
	}
	if (stanza_get_attr(cmd, "sessionid") == NULL)
		start(a, iq, node, from);
	else
		execute(a, iq, cmd, from);
	return ROUTER_HANDLED;
}

/* ---- disco ------------------------------------------------------------------------------- */

static enum disco_answer list_items(void *data, const struct stanza *iq, const struct jid *to,
                                    const char *node, struct disco_items *items)
{
	struct adhoc *a = data;
	(void)to;
	(void)node;
	g_autofree char *bare = jid_bare_of(stanza_get_from(iq));
	if (bare == NULL)
		return DISCO_NOT_FOUND;
	g_autoptr(GPtrArray) defs = cmds_allowed(a->cmds, bare);
	for (guint i = 0; i < defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(defs, i);
		disco_items_add(items, a->ctx->jid, def->node, def->name);
	}
	if (a->ctx->prompts != NULL) {
		g_autoptr(GPtrArray) open = prompts_of(a->ctx->prompts, bare);
		for (guint i = 0; open != NULL && i < open->len; i++) {
			struct prompt *p = g_ptr_array_index(open, i);
			g_autofree char *pnode = g_strdup_printf("prompt/%u", prompt_id(p));
			disco_items_add(items, a->ctx->jid, pnode, prompt_title(p));
		}
	}
	return DISCO_ANSWER;
}

static enum disco_answer list_info(void *data, const struct stanza *iq, const struct jid *to,
                                   const char *node, struct disco_info *info)
{
	(void)data;
	(void)iq;
	(void)to;
	(void)node;
	disco_info_add_identity(info, "automation", "command-list", "Commands");
	disco_info_add_feature(info, NS_DISCO_ITEMS);
	return DISCO_ANSWER;
}

static const struct disco_provider list_provider = {list_info, list_items};

static enum disco_answer node_info(void *data, const struct stanza *iq, const struct jid *to,
                                   const char *node, struct disco_info *info)
{
	struct adhoc *a = data;
	(void)to;
	const char *arg = NULL;
	const struct cmd_def *def = cmds_find_node(a->cmds, node, &arg);
	g_autofree char *bare = jid_bare_of(stanza_get_from(iq));
	if (def == NULL || bare == NULL || !cmds_may_run(a->cmds, def, bare))
		return DISCO_NOT_FOUND;
	const char *name = def->name;
	if (arg != NULL) { /* prompt/<id>: one of the asker's open prompts */
		guint64 id = 0;
		struct prompt *p = a->ctx->prompts != NULL && g_ascii_string_to_unsigned(
		                                                  arg, 10, 1, G_MAXUINT, &id, NULL)
		                       ? prompts_find(a->ctx->prompts, bare, (guint)id)
		                       : NULL;
		if (p == NULL)
			return DISCO_NOT_FOUND;
		if (prompt_title(p) != NULL && *prompt_title(p) != '\0')
			name = prompt_title(p);
	}
	disco_info_add_identity(info, "automation", "command-node", name);
	disco_info_add_feature(info, NS_COMMANDS);
	disco_info_add_feature(info, NS_DATA);
	return DISCO_ANSWER;
}

static const struct disco_provider node_provider = {node_info, NULL};

/* ---- life cycle ------------------------------------------------------------------------------ */

struct adhoc *adhoc_new(const struct gateway_ctx *ctx, struct cmds *cmds)
{
	struct adhoc *a = g_new0(struct adhoc, 1);
	a->ctx = ctx;
	a->cmds = cmds;
	a->live =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)session_free);
	a->expired = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ended_free);
	g_queue_init(&a->expired_order);
	disco_add_feature(ctx->disco, NS_COMMANDS);
	disco_add_node(ctx->disco, NS_COMMANDS, &list_provider, a);
	const GPtrArray *defs = cmds_defs(cmds);
	for (guint i = 0; i < defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(defs, i);
		disco_add_node(ctx->disco, def->node, &node_provider, a);
	}
	/* prompt/<id>, one node for every open prompt */
	disco_add_node(ctx->disco, "prompt/", &node_provider, a);
	router_add_iq_handler(ctx->router, NS_COMMANDS, on_command, a);
	return a;
}

void adhoc_free(struct adhoc *a)
{
	if (a == NULL)
		return;
	/* runs still open end (GONE) through cmds_free, which comes after:
	 * let them go first so no sink call reaches freed sessions */
	GList *sessions = g_hash_table_get_values(a->live);
	for (GList *l = sessions; l != NULL; l = l->next)
		cmd_run_drop(((struct ahs *)l->data)->run);
	g_list_free(sessions);
	g_hash_table_unref(a->live);
	g_hash_table_unref(a->expired);
	g_queue_clear(&a->expired_order);
	g_free(a);
}
