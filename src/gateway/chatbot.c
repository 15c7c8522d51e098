/* chatbot: the transport's commands by chat (cmd.h), for clients without
 * XEP-0050 (Conversations, Dino, Monal). A message to the transport from
 * a user is a command word, or, while the user has a run, the answer to
 * the field asked last: each stage is told (title, instructions, fixed
 * fields) and asked one field per message (chatbot_render.c); when every
 * field is answered the stage is submitted. One run per user at a time;
 * a prompt nobody claimed is asked the same way (a run of the prompt
 * def), and one arriving while the user is busy waits for the run's end.
 *
 * Hygiene (issue 12): only chat or normal messages with text from a user
 * JID are read; errors, headlines, group chat, messages from servers and
 * components and what looks like another bot (an embedded form or a
 * command announcement) never get an answer. Every answer is within a
 * token bucket per user; words that are no command get the transport's
 * introduction at most once every few seconds. */
#include "config.h"
#include "cmd.h"

#include <string.h>

#include "chatbot.h"
#include "ferry/pacer.h"
#include "prompts.h"

#define NS_RECEIPTS "urn:xmpp:receipts" /* XEP-0184 */

/* Answers to one user: this many at once, then this many per second. */
#define CHATBOT_BURST 20
#define CHATBOT_PER_SECOND 2.0
#define CHATBOT_RATE_KEYS 4096
/* The introduction (a word that is no command) once per user per window,
 * to this many users per window. */
#define CHATBOT_CHATTER_SECONDS 10
#define CHATBOT_CHATTER_KEYS 256
/* Users with a run or waiting prompts at once, and prompts waiting per
 * user. */
#define CHATBOT_USERS_MAX 4096
#define CHATBOT_WAITING_MAX 32

struct chatbot {
	const struct gateway_ctx *ctx;
	struct cmds *cmds;
	GHashTable *users;         /* bare JID -> struct chat_user */
	struct ratelimit *rate;    /* every answer, by bare JID */
	struct ratelimit *chatter; /* the introduction, by "+"/"-" and bare JID */
	guint prune;               /* the idle source forgetting idle users, 0 none */
	guint64 dropped;           /* answers over the rate */
	bool freeing;
};

/* A user with a run (or prompts waiting for one). */
struct chat_user {
	struct chatbot *bot;
	char *bare;
	char *to;                    /* where the run's messages go */
	struct cmd_run *run;         /* NULL: none */
	struct stanza *holder;       /* holds the current stage's <x/>, NULL: none shown */
	const struct stanza *x;      /* the stage, in HOLDER */
	const struct stanza *asking; /* the <field/> of X asked now, NULL: none */
	guint asked, total;          /* its number (from 1) of how many asked */
	struct stanza *answers;      /* the <x type='submit'/> being filled */
	bool announce;               /* the next stage carries the form and announcement */
	guint prompt;                /* the prompt run's prompt id, 0 none */
	struct prompt *watched;      /* that prompt while open (watched), else NULL */
	char *prompt_title;          /* its title */
	bool closed;                 /* it closed (CLOSED_END, CLOSED_TEXT) */
	enum prompt_end closed_end;
	char *closed_text;
	bool submitted;    /* the chat's answer went to it */
	bool told_waiting; /* told that another question waits */
	GQueue waiting;    /* prompt ids (GUINT_TO_POINTER) to ask next */
	guint next;        /* the idle source asking the next, 0 none */
};

static const struct cmd_sink sink;
static const struct prompt_watcher watcher;

/* ---- sending ------------------------------------------------------------------------ */

/* Sends M (taken) to BARE's user within the answer rate. */
static void send_to(struct chatbot *bot, const char *bare, struct stanza *m)
{
	if (!ratelimit_take(bot->rate, bare, g_get_monotonic_time())) {
		/* logged, but a flood does not flood the log */
		if (bot->dropped++ % 100 == 0)
			g_info("chatbot: answers to %s over the rate; dropped (%" G_GUINT64_FORMAT
			       " so far)",
			       bare, bot->dropped);
		stanza_free(m);
		return;
	}
	router_send(bot->ctx->router, m);
}

static struct stanza *chat_new(struct chatbot *bot, const char *to, const char *text)
{
	struct stanza *m = out_chat_new(bot->ctx->jid, to);
	stanza_add_text_child(m, "body", text);
	return m;
}

static void say(struct chatbot *bot, const char *bare, const char *to, const char *text)
{
	send_to(bot, bare, chat_new(bot, to, text));
}

/* ---- users -------------------------------------------------------------------------- */

static void stage_clear(struct chat_user *u)
{
	g_clear_pointer(&u->holder, stanza_free);
	g_clear_pointer(&u->answers, stanza_free);
	u->x = NULL;
	u->asking = NULL;
	u->asked = u->total = 0;
}

static void user_free(struct chat_user *u)
{
	if (u->next != 0)
		g_source_remove(u->next);
	stage_clear(u);
	g_queue_clear(&u->waiting);
	g_free(u->prompt_title);
	g_free(u->closed_text);
	g_free(u->bare);
	g_free(u->to);
	g_free(u);
}

static gboolean prune_cb(gpointer data)
{
	struct chatbot *bot = data;
	bot->prune = 0;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, bot->users);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct chat_user *u = value;
		if (u->run == NULL && u->next == 0 && g_queue_is_empty(&u->waiting))
			g_hash_table_iter_remove(&it);
	}
	return G_SOURCE_REMOVE;
}

static void prune_later(struct chatbot *bot)
{
	if (bot->prune == 0 && !bot->freeing)
		bot->prune = g_idle_add(prune_cb, bot);
}

/* BARE's user, made if needed; NULL when too many are. */
static struct chat_user *user_get(struct chatbot *bot, const char *bare)
{
	struct chat_user *u = g_hash_table_lookup(bot->users, bare);
	if (u != NULL)
		return u;
	if (g_hash_table_size(bot->users) >= CHATBOT_USERS_MAX) {
		g_warning("chatbot: %u users have commands running; %s must wait",
		          g_hash_table_size(bot->users), bare);
		return NULL;
	}
	u = g_new0(struct chat_user, 1);
	u->bot = bot;
	u->bare = g_strdup(bare);
	u->to = g_strdup(bare);
	g_queue_init(&u->waiting);
	g_hash_table_insert(bot->users, u->bare, u);
	return u;
}

/* ---- a stage, one question at a time ------------------------------------------------- */

/* The field of U's stage asked after AFTER (NULL: the first), or NULL. */
static const struct stanza *next_asked(const struct chat_user *u, const struct stanza *after)
{
	for (const struct stanza *c = stanza_next_child(u->x, after); c != NULL;
	     c = stanza_next_child(u->x, c))
		if (chatbot_asked(c))
			return c;
	return NULL;
}

/* FORM becomes U's stage: nothing answered yet, the hidden fields carried
 * as they are. */
static void stage_set(struct chat_user *u, const struct dataform *form)
{
	stage_clear(u);
	u->holder = stanza_new("message");
	u->x = dataform_add_to(form, u->holder);
	u->answers = stanza_new_ns("x", NS_DATA);
	stanza_set_attr(u->answers, "type", "submit");
	for (const struct stanza *c = stanza_next_child(u->x, NULL); c != NULL;
	     c = stanza_next_child(u->x, c)) {
		if (chatbot_asked(c))
			u->total++;
		else if (stanza_is(c, "field", NULL) &&
		         g_strcmp0(stanza_get_attr(c, "type"), "hidden") == 0 &&
		         stanza_get_attr(c, "var") != NULL)
			stanza_add_child_take(u->answers, stanza_copy(c));
	}
	u->asking = next_asked(u, NULL);
	u->asked = u->asking != NULL ? 1 : 0;
}

/* The other way to answer U's current field, for a secret. Caller frees. */
static char *command_route(const struct chat_user *u)
{
	const char *jid = u->bot->ctx->jid;
	if (u->prompt != 0)
		return g_strdup_printf(
		    "If your client has commands (Gajim, Psi, Cheogram), you can "
		    "answer with the command 'prompts' (or node prompt/%u) on %s "
		    "instead, which leaves nothing in the archive.",
		    u->prompt, jid);
	const struct cmd_def *def = cmd_run_def(u->run);
	return g_strdup_printf("If your client has commands (Gajim, Psi, Cheogram), the command "
	                       "'%s' on %s asks the same and leaves nothing in the archive.",
	                       def->node, jid);
}

/* The question U asks now (or how to go on when the stage asks nothing),
 * appended to OUT. */
static void add_question(struct chat_user *u, GString *out)
{
	if (out->len > 0)
		g_string_append(out, "\n\n");
	if (u->asking == NULL) {
		g_string_append(out, "Send ok to go on, or abort to stop.");
		return;
	}
	g_autofree char *route = command_route(u);
	g_autofree char *q = chatbot_question(u->asking, u->asked, u->total, route);
	g_string_append(out, q);
}

/* Tells U the whole stage: PREFIX (NULL none), its text, the first
 * question; with the form, the announcement and the pictures when ALL. */
static void tell_stage(struct chat_user *u, const char *prefix, bool all)
{
	struct chatbot *bot = u->bot;
	GString *text = g_string_new(prefix);
	g_autofree char *head = chatbot_stage_text(u->x);
	if (*head != '\0')
		g_string_append_printf(text, "%s%s", text->len > 0 ? "\n\n" : "", head);
	if (all && u->prompt != 0)
		g_string_append_printf(text,
		                       "%sAnswer here, or with the command 'prompts' (node "
		                       "prompt/%u) if your client has commands.",
		                       text->len > 0 ? "\n" : "", u->prompt);
	add_question(u, text);
	struct stanza *m = chat_new(bot, u->to, text->str);
	g_string_free(text, true);
	if (all && u->announce) {
		u->announce = false;
		stanza_add_child_take(m, stanza_copy(u->x));
		struct stanza *q = stanza_add_child(m, "query", NS_DISCO_ITEMS);
		stanza_set_attr(q, "node", NS_COMMANDS);
		struct stanza *item = stanza_add_child(q, "item", NULL);
		stanza_set_attr(item, "jid", bot->ctx->jid);
		g_autofree char *node = g_strdup_printf("prompt/%u", u->prompt);
		stanza_set_attr(item, "node", node);
		g_autofree char *title = stanza_get_child_text(u->x, "title", NULL);
		stanza_set_attr(item, "name", title != NULL && *title != '\0' ? title : "Question");
	}
	if (all) {
		const GPtrArray *att = cmd_run_attachments(u->run);
		for (guint i = 0; att != NULL && i < att->len; i++)
			stanza_add_child_take(m, stanza_copy(g_ptr_array_index(att, i)));
	}
	send_to(bot, u->bare, m);
}

/* ---- the prompt of a prompt run ------------------------------------------------------ */

static void prompt_closed(void *data, struct prompt *p, enum prompt_end end, const char *text)
{
	struct chat_user *u = data;
	(void)p;
	u->watched = NULL; /* freed after this */
	u->closed = true;
	u->closed_end = end;
	g_free(u->closed_text);
	u->closed_text = g_strdup(text);
}

static const struct prompt_watcher watcher = {prompt_closed, NULL};

static void prompt_forget(struct chat_user *u)
{
	if (u->watched != NULL)
		prompt_unwatch(u->watched, &watcher, u);
	u->watched = NULL;
	u->prompt = 0;
	u->closed = false;
	u->submitted = false;
	g_clear_pointer(&u->prompt_title, g_free);
	g_clear_pointer(&u->closed_text, g_free);
}

/* What U is told when its prompt run ends (WHY, NOTE). Caller frees. */
static char *prompt_end_text(const struct chat_user *u, enum cmd_end why, const char *note)
{
	const char *title = u->prompt_title != NULL ? u->prompt_title : "(untitled)";
	bool has_text = u->closed_text != NULL && *u->closed_text != '\0';
	if (u->closed && u->closed_end == PROMPT_END_ANSWERED)
		return u->submitted
		           ? g_strdup_printf("Thanks: your answer to '%s' was taken.%s%s", title,
		                             has_text ? " " : "", has_text ? u->closed_text : "")
		           : g_strdup_printf("The question '%s' was answered elsewhere (by "
		                             "a command); nothing more to do here.",
		                             title);
	if (u->closed && u->closed_end == PROMPT_END_WITHDRAWN)
		return g_strdup_printf("The question '%s' was withdrawn%s%s", title,
		                       has_text ? ": " : ".", has_text ? u->closed_text : "");
	if (u->closed)
		return g_strdup_printf("The question '%s' was cancelled%s%s", title,
		                       has_text ? ": " : ".", has_text ? u->closed_text : "");
	if (why == CMD_END_FAILED || why == CMD_END_COMPLETED)
		return g_strdup_printf("The question '%s': %s", title,
		                       note != NULL && *note != '\0' ? note : "closed");
	return NULL;
}

/* Submits what U answered. */
static void submit(struct chat_user *u)
{
	g_autoptr(GError) error = NULL;
	struct dataform *form = dataform_parse(u->answers, &error);
	struct cmd_run *run = u->run;
	stage_clear(u); /* the command works on it; the next stage comes by the sink */
	u->submitted = u->prompt != 0;
	if (form == NULL) {
		g_warning("chatbot: the answers of %s do not make a form: %s", u->bare,
		          error->message);
		cmd_run_cancel(run);
		return;
	}
	cmd_run_submit(run, form);
	dataform_free(form);
}

/* BODY answers U's current question. */
static void answer(struct chat_user *u, const char *body)
{
	struct chatbot *bot = u->bot;
	if (u->x == NULL) {
		say(bot, u->bare, u->to,
		    "Still working on your last answer; send abort to stop the command.");
		return;
	}
	if (u->asking == NULL) {
		submit(u);
		return;
	}
	GPtrArray *values = NULL;
	g_autofree char *why = NULL;
	switch (chatbot_read_answer(u->asking, body, &values, &why)) {
	case CHATBOT_ANSWER_AGAIN: {
		GString *text = g_string_new(why);
		add_question(u, text);
		say(bot, u->bare, u->to, text->str);
		g_string_free(text, true);
		return;
	}
	case CHATBOT_ANSWER_VALUES: {
		struct stanza *f = stanza_add_child(u->answers, "field", NULL);
		stanza_set_attr(f, "var", stanza_get_attr(u->asking, "var"));
		if (stanza_get_attr(u->asking, "type") != NULL)
			stanza_set_attr(f, "type", stanza_get_attr(u->asking, "type"));
		for (guint i = 0; i < values->len; i++)
			stanza_add_text_child(f, "value", g_ptr_array_index(values, i));
		g_ptr_array_unref(values);
		break;
	}
	case CHATBOT_ANSWER_SKIP:
		break;
	}
	u->asking = next_asked(u, u->asking);
	if (u->asking == NULL) {
		submit(u);
		return;
	}
	u->asked++;
	GString *text = g_string_new(NULL);
	add_question(u, text);
	say(bot, u->bare, u->to, text->str);
	g_string_free(text, true);
}

/* ---- the sink -------------------------------------------------------------------------- */

static void on_stage(void *data, struct cmd_run *run, const struct dataform *form, bool last)
{
	struct chat_user *u = data;
	(void)last;
	u->run = run; /* inside cmd_run_start() it is not set yet */
	stage_set(u, form);
	tell_stage(u, NULL, true);
}

static void on_refused(void *data, struct cmd_run *run, const char *text)
{
	struct chat_user *u = data;
	u->run = run;
	u->submitted = false; /* the answer did not go */
	const struct dataform *form = cmd_run_current(run);
	g_autofree char *why = g_strdup_printf("Not accepted: %s", text != NULL ? text : "");
	if (form == NULL) {
		say(u->bot, u->bare, u->to, why);
		return;
	}
	stage_set(u, form);
	tell_stage(u, why, false);
}

static gboolean next_cb(gpointer data);

static void on_ended(void *data, struct cmd_run *run, enum cmd_end why, const char *note,
                     const struct dataform *result, const char *condition)
{
	struct chat_user *u = data;
	struct chatbot *bot = u->bot;
	const struct cmd_def *def = cmd_run_def(run);
	guint prompt = u->prompt;
	g_autofree char *prompt_text = prompt != 0 ? prompt_end_text(u, why, note) : NULL;
	prompt_forget(u);
	u->run = NULL;
	u->announce = false;
	u->told_waiting = false;
	stage_clear(u);
	if (!g_queue_is_empty(&u->waiting) && u->next == 0 && !bot->freeing)
		u->next = g_idle_add(next_cb, u);
	prune_later(bot);
	guint seconds = bot->ctx->settings->command_idle_seconds;
	g_autofree char *text =
	    prompt_text != NULL
	        ? g_steal_pointer(&prompt_text)
	        : chatbot_end_text(def, why, note, result, condition,
	                           seconds != 0 ? seconds : CMD_IDLE_SECONDS, prompt != 0);
	if (text != NULL && !bot->freeing)
		say(bot, u->bare, u->to, text);
}

static const struct cmd_sink sink = {on_stage, on_refused, on_ended};

/* ---- starting runs --------------------------------------------------------------------- */

/* Starts DEF (ARG) for U, its messages to TO. */
static void start(struct chat_user *u, const struct cmd_def *def, const char *to, const char *arg)
{
	g_free(u->to);
	u->to = g_strdup(to);
	struct cmd_run *run = cmd_run_start(u->bot->cmds, def, to, arg, &sink, u);
	if (run != NULL && !cmd_run_ended(run))
		u->run = run;
}

/* Asks U prompt ID as a run of the prompt def. */
static void start_prompt(struct chat_user *u, struct prompt *p)
{
	guint id = prompt_id(p);
	g_autofree char *arg = g_strdup_printf("%u", id);
	prompt_forget(u);
	u->prompt = id;
	u->prompt_title = g_strdup(prompt_title(p));
	u->announce = true;
	/* watched before the run's own watcher: its close is known here
	 * when the run ends */
	u->watched = p;
	prompt_watch(p, &watcher, u);
	start(u, cmds_prompt_def(), u->bare, arg);
	if (u->run == NULL)
		prompt_forget(u);
}

/* The next of U's waiting prompts that is still open. */
static gboolean next_cb(gpointer data)
{
	struct chat_user *u = data;
	u->next = 0;
	const struct gateway_ctx *ctx = u->bot->ctx;
	while (u->run == NULL && !g_queue_is_empty(&u->waiting)) {
		guint id = GPOINTER_TO_UINT(g_queue_pop_head(&u->waiting));
		struct prompt *p =
		    ctx->prompts != NULL ? prompts_find(ctx->prompts, u->bare, id) : NULL;
		if (p != NULL)
			start_prompt(u, p);
	}
	prune_later(u->bot);
	return G_SOURCE_REMOVE;
}

void chatbot_ask_prompt(struct chatbot *bot, const char *bare_jid, struct prompt *p)
{
	if (bot == NULL || bot->freeing || bare_jid == NULL || p == NULL)
		return;
	struct chat_user *u = user_get(bot, bare_jid);
	if (u == NULL)
		return; /* logged; the prompt stays open for the prompts command */
	guint id = prompt_id(p);
	if (u->run == NULL && u->next == 0 && g_queue_is_empty(&u->waiting)) {
		start_prompt(u, p);
		prune_later(bot);
		return;
	}
	if (g_queue_get_length(&u->waiting) >= CHATBOT_WAITING_MAX) {
		g_info("chatbot: %u questions already wait for %s; prompt %u only by command",
		       CHATBOT_WAITING_MAX, bare_jid, id);
		return;
	}
	g_queue_push_tail(&u->waiting, GUINT_TO_POINTER(id));
	if (u->told_waiting)
		return;
	u->told_waiting = true;
	const char *title = prompt_title(p);
	g_autofree char *text = g_strdup_printf(
	    "Another question is waiting for you (%s); I ask it when this command ends (or "
	    "send prompts after it for all of them).",
	    title != NULL && *title != '\0' ? title : "untitled");
	say(bot, u->bare, u->to, text);
}

void chatbot_tell(struct chatbot *bot, const char *bare_jid, const char *text)
{
	if (bot == NULL || bare_jid == NULL || text == NULL)
		return;
	say(bot, bare_jid, bare_jid, text);
}

/* ---- words ----------------------------------------------------------------------------- */

/* The transport in a few sentences, for a user who is REGISTERED or not.
 * Caller frees. */
static char *introduction(const struct chatbot *bot, bool registered)
{
	const struct gateway_ctx *ctx = bot->ctx;
	const char *network = regform_protocol_name(ctx->form);
	if (!registered) {
		g_autofree char *how = content_how_to_register(ctx);
		return g_strdup_printf(
		    "This is %s, a transport to %s. You are not registered yet: send register to "
		    "register here by chat, or %s; it asks for your %s account. Then add people "
		    "as contacts at this address (bob@%s is the %s user bob) and chat with them.",
		    ctx->jid, network, how, network, ctx->jid, network);
	}
	/* the escaping, shown on an address as the transport writes it */
	g_autofree char *example = address_contact_jid(ctx->address, "ann@example.net");
	return g_strdup_printf(
	    "This is %s, a transport to %s, and you are registered. To chat with someone on %s, "
	    "add them as a contact at this address: bob@%s is the %s user bob. (A name with a "
	    "space, @ or / in it is written with \\20, \\40 or \\2f in their place: "
	    "\"ann@example.net\" is %s.)",
	    ctx->jid, network, network, ctx->jid, network, example != NULL ? example : "");
}

static void help(struct chatbot *bot, const char *bare, const char *to, const char *rest)
{
	g_autofree char *word = chatbot_word(rest, &rest);
	if (word != NULL) {
		const struct cmd_def *def = cmds_find_word(bot->cmds, word);
		g_autofree char *text =
		    def != NULL && cmds_may_run(bot->cmds, def, bare)
		        ? g_strdup_printf("%s — %s. (As a command: node '%s' on %s.)", def->word,
		                          def->help, def->node, bot->ctx->jid)
		        : g_strdup_printf(
		              "There is no command '%s' for you; send help for the list.", word);
		say(bot, bare, to, text);
		return;
	}
	g_autofree char *intro = introduction(bot, cmds_is_registered(bot->cmds, bare));
	GString *text = g_string_new(intro);
	g_string_append(text, "\n\nCommands (send the word):");
	g_autoptr(GPtrArray) defs = cmds_allowed(bot->cmds, bare);
	for (guint i = 0; i < defs->len; i++) {
		const struct cmd_def *def = g_ptr_array_index(defs, i);
		if (def->word != NULL)
			g_string_append_printf(text, "\n%s — %s", def->word, def->help);
	}
	g_string_append(text, "\nhelp <command> — explains one; abort — stops a running command");
	say(bot, bare, to, text->str);
	g_string_free(text, true);
}

/* A word that is no command: the introduction, once per window. */
static void unknown(struct chatbot *bot, const char *bare, const char *to, const char *word)
{
	bool registered = cmds_is_registered(bot->cmds, bare);
	g_autofree char *key = g_strdup_printf("%s%s", registered ? "+" : "-", bare);
	if (!ratelimit_take(bot->chatter, key, g_get_monotonic_time())) {
		g_debug("chatbot: %s wrote '%s' again; introduced a moment ago", bare, word);
		return;
	}
	g_autofree char *intro = introduction(bot, registered);
	g_autofree char *text =
	    g_strdup_printf("%s\n\n'%s' is no command here: send help for the list.", intro, word);
	say(bot, bare, to, text);
}

/* true for what another automaton sends: a form or a command list. */
static bool automated(const struct stanza *m)
{
	const struct stanza *x = stanza_find_child(m, "x", NS_DATA);
	if (x != NULL && g_strcmp0(stanza_get_type(x), "submit") != 0)
		return true;
	const struct stanza *q = stanza_find_child(m, "query", NS_DISCO_ITEMS);
	return q != NULL && g_strcmp0(stanza_get_attr(q, "node"), NS_COMMANDS) == 0;
}

static bool is_stop(const char *word, const char *rest)
{
	return word != NULL && *rest == '\0' &&
	       (strcmp(word, "abort") == 0 || strcmp(word, "cancel") == 0);
}

/* M from FROM (a user: BARE, FULL) with BODY, not answered yet. */
static void on_body(struct chatbot *bot, const struct stanza *m, const char *bare, const char *full,
                    const char *body)
{
	if (automated(m)) {
		g_debug("chatbot: %s sent a form or a command list; not answered", bare);
		return;
	}
	const struct stanza *request = stanza_find_child(m, "request", NS_RECEIPTS);
	if (request != NULL && stanza_get_id(m) != NULL) {
		struct stanza *r = stanza_new("message");
		stanza_set_attr(r, "from", stanza_get_to(m));
		stanza_set_attr(r, "to", full);
		stanza_set_attr(stanza_add_child(r, "received", NS_RECEIPTS), "id",
		                stanza_get_id(m));
		send_to(bot, bare, r);
	}
	const char *rest = "";
	g_autofree char *word = chatbot_word(body, &rest);
	struct chat_user *u = g_hash_table_lookup(bot->users, bare);
	if (u != NULL && u->run != NULL) {
		g_free(u->to);
		u->to = g_strdup(full);
		cmd_run_touch(u->run);
		if (is_stop(word, rest))
			cmd_run_cancel(u->run);
		else
			answer(u, body);
		return;
	}
	if (word == NULL)
		return;
	if (is_stop(word, rest)) {
		say(bot, bare, full, "No command is running.");
		return;
	}
	if (strcmp(word, "help") == 0) {
		help(bot, bare, full, rest);
		return;
	}
	const struct cmd_def *def = cmds_find_word(bot->cmds, word);
	if (def == NULL) {
		unknown(bot, bare, full, word);
		return;
	}
	if (!cmds_may_run(bot->cmds, def, bare)) {
		g_autofree char *text =
		    g_strdup_printf("You may not run '%s'%s; send help for your commands.", word,
		                    def->who == CMD_WHO_REGISTERED ? " before you register" : "");
		say(bot, bare, full, text);
		return;
	}
	u = user_get(bot, bare);
	if (u == NULL) {
		say(bot, bare, full, "The transport is busy; try again in a few minutes.");
		return;
	}
	start(u, def, full, NULL);
}

/* A form submitted in a message (a client filling the form embedded in a
 * stage's message): it answers that whole stage at once, checked as any
 * submission (a refusal asks again). true when M carried one. */
static bool on_form(struct chatbot *bot, const struct stanza *m, const char *bare, const char *full)
{
	const struct stanza *x = stanza_find_child(m, "x", NS_DATA);
	if (x == NULL || g_strcmp0(stanza_get_type(x), "submit") != 0)
		return false;
	struct chat_user *u = g_hash_table_lookup(bot->users, bare);
	if (u == NULL || u->run == NULL || u->x == NULL) {
		g_message("chatbot: %s: a submitted form with no question open", bare);
		say(bot, bare, full,
		    "That form answers no open question (it was answered, withdrawn or timed "
		    "out): send prompts to see what is open.");
		return true;
	}
	g_autoptr(GError) error = NULL;
	struct dataform *form = dataform_parse(x, &error);
	if (form == NULL) {
		g_message("chatbot: %s: a submitted form that does not parse: %s", bare,
		          error->message);
		say(bot, bare, full,
		    "That form could not be read; answer the question here instead.");
		return true;
	}
	struct cmd_run *run = u->run;
	stage_clear(u); /* the command works on it; the next stage comes by the sink */
	u->submitted = u->prompt != 0;
	cmd_run_touch(run);
	cmd_run_submit(run, form);
	dataform_free(form);
	return true;
}

void chatbot_on_message(struct chatbot *bot, const struct stanza *m, const struct jid *from)
{
	if (bot == NULL || bot->freeing || from == NULL)
		return;
	if (jid_local(from) == NULL) {
		g_debug("chatbot: %s is a server or a component, no user: not answered",
		        jid_full(from));
		return;
	}
	const char *type = stanza_get_type(m);
	if (type != NULL && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0)
		return; /* errors, headlines and group chat are never answered */
	if (on_form(bot, m, jid_bare(from), jid_full(from))) {
		prune_later(bot);
		return;
	}
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_autofree char *trimmed = body != NULL ? g_strstrip(g_strdup(body)) : NULL;
	if (trimmed == NULL || *trimmed == '\0')
		return; /* chat states, receipts, markers */
	on_body(bot, m, jid_bare(from), jid_full(from), body);
	prune_later(bot);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

struct chatbot *chatbot_new(const struct gateway_ctx *ctx, struct cmds *cmds)
{
	struct chatbot *bot = g_new0(struct chatbot, 1);
	bot->ctx = ctx;
	bot->cmds = cmds;
	bot->users =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)user_free);
	bot->rate = ratelimit_new(CHATBOT_BURST, CHATBOT_PER_SECOND, CHATBOT_RATE_KEYS);
	bot->chatter = ratelimit_new(1, 1.0 / CHATBOT_CHATTER_SECONDS, CHATBOT_CHATTER_KEYS);
	return bot;
}

void chatbot_free(struct chatbot *bot)
{
	if (bot == NULL)
		return;
	bot->freeing = true;
	/* the runs go first (GONE, nothing said), so no sink call reaches a
	 * freed user */
	GList *users = g_hash_table_get_values(bot->users);
	for (GList *l = users; l != NULL; l = l->next) {
		struct chat_user *u = l->data;
		if (u->run != NULL)
			cmd_run_drop(u->run);
	}
	g_list_free(users);
	if (bot->prune != 0)
		g_source_remove(bot->prune);
	g_hash_table_unref(bot->users);
	ratelimit_free(bot->rate);
	ratelimit_free(bot->chatter);
	g_free(bot);
}
