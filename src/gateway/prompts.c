/* prompts: the gateway's open prompts (prompts.h). A prompt comes from a
 * PROMPT event of a user's account (then its answer goes back as
 * ANSWER_PROMPT) or from ferry itself (prompts_ask: its answer goes to a
 * callback). Each has a gateway-unique id; the worker's own id is kept
 * with its account. Pictures and QR codes are prompt_media.c's. */
#include "config.h"
#include "prompts.h"

#include <string.h>

#include "cmd.h"
#include "ferry/secrets.h"
#include "prompt_media.h"

/* The most prompts one user may have open: more are cancelled at once. */
#define PROMPTS_PER_USER 20
/* The stored setting with the user's pinned certificates (the LOGIN
 * option of the same name: one "host port sha256" per line). */
#define PROMPTS_PINS_KEY WORKER_OPTION_CERT_PINS

struct watch {
	const struct prompt_watcher *watcher;
	void *data;
};

struct claim {
	void (*fn)(void *data, struct prompt *p);
	void *data;
};

struct prompts {
	const struct gateway_ctx *ctx;
	GPtrArray *open;    /* struct prompt *, oldest first (owned) */
	GHashTable *claims; /* account -> struct claim * */
	guint next_id;
	bool freeing; /* ferry stops: nobody is told */
};

struct prompt {
	struct prompts *prompts;
	guint id;
	char *user;
	guint32 account; /* 0: ferry's own */
	guint32 worker_id;
	guint32 kind; /* WORKER_PROMPT_KIND_*, 0 for ferry's own */
	char *title, *instructions, *who;
	GPtrArray *fields;     /* GHashTable * (owned strings), the worker's tables */
	struct dataform *form; /* built once: prompt_form() copies it */
	GPtrArray *bobs;       /* struct stanza * <data/>, every picture */
	GArray *watchers;      /* struct watch */
	guint timer;
	bool answering; /* an answer is on its way to the worker */
	bool closing;   /* watchers are being told: nothing more happens */
	char *pin;      /* "host port sha256" to store once the answer is confirmed */
	/* ferry's own */
	void (*answer)(void *data, const struct dataform *values);
	void *data;
	GDestroyNotify free_data;
};

/* ---- life cycle ------------------------------------------------------------------------ */

static void prompt_free(struct prompt *p)
{
	if (p->timer != 0)
		g_source_remove(p->timer);
	if (p->free_data != NULL)
		p->free_data(p->data);
	g_free(p->user);
	g_free(p->title);
	g_free(p->instructions);
	g_free(p->who);
	if (p->fields != NULL)
		g_ptr_array_unref(p->fields);
	dataform_free(p->form);
	g_ptr_array_unref(p->bobs);
	g_array_unref(p->watchers);
	g_free(p->pin);
	g_free(p);
}

static enum router_result on_bob_iq(struct router *router, const struct stanza *iq, void *data);

struct prompts *prompts_new(const struct gateway_ctx *ctx)
{
	struct prompts *prompts = g_new0(struct prompts, 1);
	prompts->ctx = ctx;
	prompts->open = g_ptr_array_new();
	prompts->claims = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	prompts->next_id = 1;
	if (ctx->router != NULL)
		router_add_iq_handler(ctx->router, NS_BOB, on_bob_iq, prompts);
	return prompts;
}

static void prompt_close(struct prompt *p, enum prompt_end end, const char *text);

void prompts_free(struct prompts *prompts)
{
	if (prompts == NULL)
		return;
	prompts->freeing = true;
	while (prompts->open->len > 0) {
		struct prompt *p = g_ptr_array_index(prompts->open, 0);
		p->answer = NULL; /* withdrawn: ferry's own get no answer */
		prompt_close(p, PROMPT_END_WITHDRAWN, "");
	}
	g_ptr_array_unref(prompts->open);
	g_hash_table_unref(prompts->claims);
	g_free(prompts);
}

/* ---- telling the user ---------------------------------------------------------------- */

/* chatbot.c is B2's: until it is linked in, weak references (MERGE: drop
 * these two declarations and the NULL checks once chatbot.c is in). */
extern void chatbot_ask_prompt(struct chatbot *bot, const char *bare_jid, struct prompt *p)
    __attribute__((weak));
extern void chatbot_tell(struct chatbot *bot, const char *bare_jid, const char *text)
    __attribute__((weak));

static void tell(struct prompts *prompts, const char *bare_jid, const char *text)
{
	const struct gateway_ctx *ctx = prompts->ctx;
	if (ctx->chatbot != NULL && chatbot_tell != NULL)
		chatbot_tell(ctx->chatbot, bare_jid, text);
	else
		out_tell_user(ctx->router, bare_jid, text);
}

static const char *title_or_default(const struct prompt *p)
{
	return p->title != NULL && *p->title != '\0' ? p->title : "(untitled)";
}

/* Tells the watchers that P ended (END, TEXT), or, when nobody watches
 * and it was withdrawn, the user by chat; then P is forgotten and freed. */
static void prompt_close(struct prompt *p, enum prompt_end end, const char *text)
{
	if (p->closing)
		return;
	p->closing = true;
	struct prompts *prompts = p->prompts;
	g_ptr_array_remove(prompts->open, p);
	if (p->timer != 0) {
		g_source_remove(p->timer);
		p->timer = 0;
	}
	GArray *watchers = g_array_copy(p->watchers);
	for (guint i = 0; i < watchers->len; i++) {
		const struct watch *w = &g_array_index(watchers, struct watch, i);
		w->watcher->closed(w->data, p, end, text != NULL ? text : "");
	}
	if (watchers->len == 0 && end == PROMPT_END_WITHDRAWN && !prompts->freeing) {
		g_autofree char *msg =
		    text != NULL && *text != '\0'
		        ? g_strdup_printf("The question '%s' was withdrawn: %s",
		                          title_or_default(p), text)
		        : g_strdup_printf("The question '%s' was withdrawn.", title_or_default(p));
		tell(prompts, p->user, msg);
	}
	g_array_unref(watchers);
	prompt_free(p);
}

/* ---- the form --------------------------------------------------------------------------- */

static const char *get(GHashTable *t, const char *key)
{
	const char *v = g_hash_table_lookup(t, key);
	return v != NULL ? v : "";
}

static struct dataform *build_form(struct prompt *p)
{
	g_autofree char *log_name = g_strdup_printf("%s: prompt %u", p->user, p->id);
	return prompt_media_form(p->fields, p->title, p->instructions, p->bobs, log_name);
}

/* A copy of FORM (through its XML: every part that a form carries). */
static struct dataform *form_copy(const struct dataform *form)
{
	g_autoptr(GError) err = NULL;
	struct stanza *holder = stanza_new("holder");
	struct stanza *x = dataform_add_to(form, holder);
	struct dataform *copy = dataform_parse(x, &err);
	stanza_free(holder);
	if (copy == NULL)
		g_warning("prompts: a form that does not parse back: %s", err->message);
	return copy;
}

/* Copies media too: form_copy() loses them (they are not parsed back). */
static void copy_media(const struct dataform *from, struct dataform *to)
{
	const struct dataform_field *a = dataform_next_field(from, NULL);
	struct dataform_field *b = dataform_next_field(to, NULL);
	for (; a != NULL && b != NULL;
	     a = dataform_next_field(from, a), b = dataform_next_field(to, b)) {
		for (guint i = 0; i < dataform_field_n_media(a); i++) {
			const char *type = NULL;
			const char *uri = dataform_field_media_uri(a, i, &type);
			dataform_field_add_media(b, type, uri);
		}
	}
}

struct dataform *prompt_form(const struct prompt *p)
{
	g_return_val_if_fail(p != NULL, NULL);
	struct dataform *copy = form_copy(p->form);
	if (copy != NULL)
		copy_media(p->form, copy);
	return copy;
}

GPtrArray *prompt_attachments(const struct prompt *p)
{
	g_return_val_if_fail(p != NULL, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	for (guint i = 0; i < p->bobs->len; i++) {
		const struct stanza *d = g_ptr_array_index(p->bobs, i);
		g_autofree char *text = stanza_get_text(d);
		if (strlen(text) < PROMPT_BOB_INLINE_MAX)
			g_ptr_array_add(out, stanza_copy(d));
	}
	return out;
}

bool prompt_has_secret(const struct prompt *p)
{
	g_return_val_if_fail(p != NULL, false);
	for (const struct dataform_field *f = dataform_next_field(p->form, NULL); f != NULL;
	     f = dataform_next_field(p->form, f)) {
		if (dataform_field_type(f) == DATAFORM_TEXT_PRIVATE)
			return true;
	}
	return false;
}

/* ---- accessors ---------------------------------------------------------------------------- */

guint prompt_id(const struct prompt *p)
{
	return p->id;
}

const char *prompt_user(const struct prompt *p)
{
	return p->user;
}

const char *prompt_title(const struct prompt *p)
{
	return p->title;
}

const char *prompt_instructions(const struct prompt *p)
{
	return p->instructions;
}

GPtrArray *prompts_of(const struct prompts *prompts, const char *bare_jid)
{
	GPtrArray *out = g_ptr_array_new();
	for (guint i = 0; i < prompts->open->len; i++) {
		struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (strcmp(p->user, bare_jid) == 0)
			g_ptr_array_add(out, p);
	}
	return out;
}

struct prompt *prompts_find(const struct prompts *prompts, const char *bare_jid, guint id)
{
	for (guint i = 0; i < prompts->open->len; i++) {
		struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (p->id == id && strcmp(p->user, bare_jid) == 0)
			return p;
	}
	return NULL;
}

static struct prompt *find_worker(const struct prompts *prompts, guint32 account, guint32 worker_id)
{
	for (guint i = 0; i < prompts->open->len; i++) {
		struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (p->account == account && p->worker_id == worker_id)
			return p;
	}
	return NULL;
}

static guint count_of(const struct prompts *prompts, const char *bare_jid)
{
	guint n = 0;
	for (guint i = 0; i < prompts->open->len; i++) {
		const struct prompt *p = g_ptr_array_index(prompts->open, i);
		n += strcmp(p->user, bare_jid) == 0;
	}
	return n;
}

/* ---- watchers ----------------------------------------------------------------------------- */

void prompt_watch(struct prompt *p, const struct prompt_watcher *watcher, void *data)
{
	g_return_if_fail(p != NULL && watcher != NULL && watcher->closed != NULL);
	struct watch w = {watcher, data};
	g_array_append_val(p->watchers, w);
}

void prompt_unwatch(struct prompt *p, const struct prompt_watcher *watcher, void *data)
{
	for (guint i = 0; i < p->watchers->len; i++) {
		const struct watch *w = &g_array_index(p->watchers, struct watch, i);
		if (w->watcher == watcher && w->data == data) {
			g_array_remove_index(p->watchers, i);
			return;
		}
	}
}

/* ---- answering ------------------------------------------------------------------------------ */

/* VALUES as ANSWER_PROMPT's table: var -> value, a multi-valued field's
 * values joined by "\n". */
static GHashTable *answer_table(const struct dataform *values)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)secrets_wipe_free);
	for (const struct dataform_field *f = dataform_next_field(values, NULL); f != NULL;
	     f = dataform_next_field(values, f)) {
		const char *var = dataform_field_var(f);
		if (var == NULL)
			continue;
		const GPtrArray *vs = dataform_field_values(f);
		GString *joined = g_string_new(NULL);
		for (guint i = 0; i < vs->len; i++) {
			if (i > 0)
				g_string_append_c(joined, '\n');
			g_string_append(joined, g_ptr_array_index(vs, i));
		}
		g_hash_table_replace(t, g_strdup(var), g_string_free(joined, FALSE));
	}
	return t;
}

/* The prompt's own default of field VAR (never the submission's: hidden
 * values are not the user's to change). */
static const char *own_value(const struct prompt *p, const char *var)
{
	for (guint i = 0; i < p->fields->len; i++) {
		GHashTable *t = g_ptr_array_index(p->fields, i);
		if (strcmp(get(t, WORKER_PROMPT_FIELD_VAR), var) == 0)
			return get(t, WORKER_PROMPT_FIELD_VALUE);
	}
	return "";
}

/* A certificate prompt answered "always": the pin to store once the worker
 * confirms the answer. */
static void note_pin(struct prompt *p, const struct dataform *values)
{
	g_clear_pointer(&p->pin, g_free);
	if (p->kind != WORKER_PROMPT_KIND_CERTIFICATE || values == NULL ||
	    g_strcmp0(dataform_get_value(values, "action"), "always") != 0)
		return;
	const char *host = own_value(p, "host"), *port = own_value(p, "port"),
	           *sha256 = own_value(p, "sha256");
	if (*host == '\0' || *port == '\0' || *sha256 == '\0' || strchr(host, ' ') != NULL ||
	    strchr(sha256, ' ') != NULL) {
		g_warning(
		    "prompts: %s: a certificate prompt without host, port or sha256: not pinned",
		    p->user);
		return;
	}
	p->pin = g_strdup_printf("%s %s %s", host, port, sha256);
}

static void own_answered(struct prompt *p, const struct dataform *values)
{
	void (*answer)(void *, const struct dataform *) = p->answer;
	p->answer = NULL;
	p->closing = true; /* the callback may not answer or close P again */
	if (answer != NULL)
		answer(p->data, values);
	p->closing = false;
	prompt_close(p, values != NULL ? PROMPT_END_ANSWERED : PROMPT_END_CANCELLED, "");
}

bool prompt_answer(struct prompt *p, const struct dataform *values)
{
	g_return_val_if_fail(p != NULL, false);
	if (p->closing || p->answering)
		return false;
	g_autoptr(GError) err = NULL;
	struct dataform *checked = NULL;
	if (values != NULL) {
		checked = dataform_check(p->form, values, &err);
		if (checked == NULL) {
			g_message("prompts: %s: prompt %u: an answer that does not fit: %s",
			          p->user, p->id, err->message);
			return false;
		}
	}
	if (p->account == 0) {
		own_answered(p, checked);
		dataform_free(checked);
		return true;
	}
	note_pin(p, checked);
	GHashTable *table = checked != NULL ? answer_table(checked) : NULL;
	dataform_free(checked);
	bool sent = LEGACY_SEND(
	    p->prompts->ctx->legacy, answer_prompt, .account = p->account, .prompt = p->worker_id,
	    .action = table != NULL ? WORKER_PROMPT_OK : WORKER_PROMPT_CANCEL, .values = table);
	if (table != NULL)
		g_hash_table_unref(table); /* values wiped */
	if (!sent) {
		prompt_close(p, PROMPT_END_WITHDRAWN, "the legacy connection is gone");
		return false;
	}
	p->answering = true;
	return true;
}

/* ---- pins ----------------------------------------------------------------------------------- */

void prompts_pins_add(GHashTable *settings, const char *pin)
{
	g_auto(GStrv) parts = g_strsplit(pin, " ", 3);
	g_autofree char *prefix = g_strdup_printf("%s %s ", parts[0], parts[1]);
	GString *pins = g_string_new(NULL);
	g_auto(GStrv) old = g_strsplit(get(settings, PROMPTS_PINS_KEY), "\n", -1);
	for (char **l = old; *l != NULL; l++) {
		if (**l != '\0' && !g_str_has_prefix(*l, prefix))
			g_string_append_printf(pins, "%s\n", *l);
	}
	g_string_append(pins, pin);
	g_hash_table_replace(settings, g_strdup(PROMPTS_PINS_KEY), g_string_free(pins, FALSE));
}

/* Adds PIN to BARE_JID's stored pins; a registration's test login puts it
 * into what that registration stores instead. */
static void store_pin(const struct gateway_ctx *ctx, guint32 account, const char *bare_jid,
                      const char *pin)
{
	if (registration_take_pin(ctx->registration, account, pin))
		return;
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(ctx->storage, bare_jid, &err);
	if (u == NULL) {
		g_warning("prompts: %s: certificate not pinned: %s", bare_jid,
		          err != NULL ? err->message : "not registered");
		return;
	}
	prompts_pins_add(u->settings, pin);
	if (!storage_user_put(ctx->storage, bare_jid, u->settings, u->password, &err))
		g_warning("prompts: %s: certificate not pinned: %s", bare_jid, err->message);
	else
		g_message("prompts: %s: certificate pinned", bare_jid);
	storage_user_free(u);
}

void prompts_login_options(GHashTable *settings, GHashTable *options)
{
	const char *pins =
	    settings != NULL ? g_hash_table_lookup(settings, PROMPTS_PINS_KEY) : NULL;
	if (pins != NULL && *pins != '\0')
		g_hash_table_replace(options, g_strdup(WORKER_OPTION_CERT_PINS), g_strdup(pins));
}

/* ---- timeouts ------------------------------------------------------------------------------- */

static gboolean on_timeout(gpointer data)
{
	struct prompt *p = data;
	p->timer = 0;
	struct prompts *prompts = p->prompts;
	g_message("prompts: %s: prompt %u not answered in time: cancelled", p->user, p->id);
	g_autofree char *msg = g_strdup_printf(
	    "The question '%s' was not answered in time and was cancelled.", title_or_default(p));
	tell(prompts, p->user, msg);
	if (p->account == 0) {
		own_answered(p, NULL);
		return G_SOURCE_REMOVE;
	}
	/* the worker's PROMPT_CLOSED (CANCELLED) closes it, also when an
	 * answer was on its way */
	p->answering = true;
	if (!LEGACY_SEND(prompts->ctx->legacy, answer_prompt, .account = p->account,
	                 .prompt = p->worker_id, .action = WORKER_PROMPT_CANCEL))
		prompt_close(p, PROMPT_END_CANCELLED, "");
	return G_SOURCE_REMOVE;
}

/* ---- opening ---------------------------------------------------------------------------------- */

static struct prompt *prompt_new(struct prompts *prompts, const char *bare_jid, const char *title,
                                 const char *instructions)
{
	struct prompt *p = g_new0(struct prompt, 1);
	p->prompts = prompts;
	p->id = prompts->next_id++;
	p->user = g_strdup(bare_jid);
	p->title = g_strdup(title != NULL ? title : "");
	p->instructions = g_strdup(instructions != NULL ? instructions : "");
	p->bobs = g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	p->watchers = g_array_new(FALSE, FALSE, sizeof(struct watch));
	return p;
}

static void start(struct prompt *p)
{
	const struct gateway_ctx *ctx = p->prompts->ctx;
	guint seconds = ctx->settings != NULL && ctx->settings->prompt_seconds > 0
	                    ? ctx->settings->prompt_seconds
	                    : 600;
	p->timer = g_timeout_add_seconds(seconds, on_timeout, p);
	g_ptr_array_add(p->prompts->open, p);
}

/* Without a chat bot: the prompt as a plain chat message from the
 * transport with its form embedded. */
static void send_plain(struct prompt *p)
{
	const struct gateway_ctx *ctx = p->prompts->ctx;
	GString *body = g_string_new(NULL);
	g_string_append_printf(body, "%s", title_or_default(p));
	if (*p->instructions != '\0')
		g_string_append_printf(body, "\n%s", p->instructions);
	g_string_append_printf(body, "\n(Answer it with the command 'prompts' or node prompt/%u.)",
	                       p->id);
	struct stanza *m = out_chat_new(ctx->jid, p->user);
	stanza_add_text_child(m, "body", body->str);
	g_string_free(body, TRUE);
	dataform_add_to(p->form, m);
	g_autoptr(GPtrArray) bobs = prompt_attachments(p);
	for (guint i = 0; i < bobs->len; i++)
		stanza_add_child_take(m, stanza_copy(g_ptr_array_index(bobs, i)));
	router_send(ctx->router, m);
}

/* A new prompt goes to its account's claim, else to the chat bot. */
static void hand_out(struct prompt *p)
{
	struct prompts *prompts = p->prompts;
	const struct claim *c =
	    p->account != 0 ? g_hash_table_lookup(prompts->claims, GUINT_TO_POINTER(p->account))
	                    : NULL;
	if (c != NULL)
		c->fn(c->data, p);
	else if (prompts->ctx->chatbot != NULL && chatbot_ask_prompt != NULL)
		chatbot_ask_prompt(prompts->ctx->chatbot, p->user, p);
	else
		send_plain(p);
}

static GPtrArray *copy_fields(GPtrArray *form)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	for (guint i = 0; form != NULL && i < form->len; i++) {
		GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, g_ptr_array_index(form, i));
		while (g_hash_table_iter_next(&it, &k, &v))
			g_hash_table_replace(t, g_strdup(k), g_strdup(v));
		g_ptr_array_add(out, t);
	}
	return out;
}

static void on_prompt(struct prompts *prompts, const char *bare_jid,
                      const struct worker_msg_prompt *m)
{
	if (find_worker(prompts, m->account, m->prompt) != NULL) {
		g_warning("prompts: %s: prompt %u of account %u opened twice: ignored", bare_jid,
		          m->prompt, m->account);
		return;
	}
	if (count_of(prompts, bare_jid) >= PROMPTS_PER_USER) {
		g_warning("prompts: %s: more than %d open prompts: '%s' cancelled", bare_jid,
		          PROMPTS_PER_USER, m->title);
		(void)LEGACY_SEND(prompts->ctx->legacy, answer_prompt, .account = m->account,
		                  .prompt = m->prompt, .action = WORKER_PROMPT_CANCEL);
		g_autofree char *msg = g_strdup_printf(
		    "The question '%s' was cancelled: you have %d questions open already.",
		    *m->title != '\0' ? m->title : "(untitled)", PROMPTS_PER_USER);
		tell(prompts, bare_jid, msg);
		return;
	}
	struct prompt *p = prompt_new(prompts, bare_jid, m->title, m->instructions);
	p->account = m->account;
	p->worker_id = m->prompt;
	p->kind = m->kind;
	p->who = g_strdup(m->who);
	p->fields = copy_fields(m->form);
	p->form = build_form(p);
	g_message("prompts: %s: prompt %u (account %u's %u, kind %u) open", bare_jid, p->id,
	          m->account, m->prompt, m->kind);
	start(p);
	hand_out(p);
}

static void on_closed(struct prompts *prompts, const struct worker_msg_prompt_closed *m)
{
	struct prompt *p = find_worker(prompts, m->account, m->prompt);
	if (p == NULL)
		return;
	enum prompt_end end;
	switch (m->why) {
	case WORKER_PROMPT_CLOSED_ANSWERED:
		end = PROMPT_END_ANSWERED;
		break;
	case WORKER_PROMPT_CLOSED_CANCELLED:
		end = PROMPT_END_CANCELLED;
		break;
	default:
		end = PROMPT_END_WITHDRAWN;
		break;
	}
	if (end == PROMPT_END_ANSWERED && p->pin != NULL)
		store_pin(prompts->ctx, p->account, p->user, p->pin);
	prompt_close(p, end, m->text);
}

static void on_error(struct prompts *prompts, const struct worker_msg_prompt_error *m)
{
	struct prompt *p = find_worker(prompts, m->account, m->prompt);
	if (p == NULL || p->closing)
		return;
	p->answering = false;
	g_clear_pointer(&p->pin, g_free);
	GArray *watchers = g_array_copy(p->watchers);
	guint told = 0;
	for (guint i = 0; i < watchers->len; i++) {
		const struct watch *w = &g_array_index(watchers, struct watch, i);
		if (w->watcher->refused != NULL) {
			w->watcher->refused(w->data, p, m->text);
			told++;
		}
	}
	g_array_unref(watchers);
	if (told == 0) {
		g_autofree char *msg = g_strdup_printf("The answer to '%s' was refused: %s",
		                                       title_or_default(p), m->text);
		tell(prompts, p->user, msg);
	}
}

struct event_ctx {
	struct prompts *prompts;
	const char *bare_jid;
};

static void ev_prompt(void *data, const struct worker_msg_prompt *m)
{
	struct event_ctx *e = data;
	on_prompt(e->prompts, e->bare_jid, m);
}

static void ev_closed(void *data, const struct worker_msg_prompt_closed *m)
{
	struct event_ctx *e = data;
	on_closed(e->prompts, m);
}

static void ev_error(void *data, const struct worker_msg_prompt_error *m)
{
	struct event_ctx *e = data;
	on_error(e->prompts, m);
}

static const struct worker_msg_handlers event_handlers = {
    .prompt = ev_prompt,
    .prompt_closed = ev_closed,
    .prompt_error = ev_error,
};

bool prompts_on_event(struct prompts *prompts, const char *bare_jid, guint32 account,
                      const struct legacy_event *event)
{
	(void)account; /* the decoded message carries it */
	struct event_ctx e = {prompts, bare_jid};
	return legacy_event_dispatch(event, &event_handlers, &e);
}

void prompts_account_gone(struct prompts *prompts, guint32 account)
{
	if (prompts == NULL || account == 0)
		return;
	g_hash_table_remove(prompts->claims, GUINT_TO_POINTER(account));
	for (guint i = 0; i < prompts->open->len;) {
		struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (p->account == account && !p->closing)
			prompt_close(p, PROMPT_END_WITHDRAWN, "the legacy connection ended");
		else
			i++;
	}
}

void prompts_claim(struct prompts *prompts, guint32 account,
                   void (*fn)(void *data, struct prompt *p), void *data)
{
	g_return_if_fail(account != 0 && fn != NULL);
	struct claim *c = g_new0(struct claim, 1);
	c->fn = fn;
	c->data = data;
	g_hash_table_replace(prompts->claims, GUINT_TO_POINTER(account), c);
}

void prompts_unclaim(struct prompts *prompts, guint32 account)
{
	g_hash_table_remove(prompts->claims, GUINT_TO_POINTER(account));
}

struct prompt *prompts_ask(struct prompts *prompts, const char *bare_jid, const char *title,
                           const char *instructions, struct dataform *form,
                           void (*answer)(void *data, const struct dataform *values), void *data,
                           GDestroyNotify free_data)
{
	struct prompt *p = prompt_new(prompts, bare_jid, title, instructions);
	p->fields = g_ptr_array_new();
	p->answer = answer;
	p->data = data;
	p->free_data = free_data;
	p->form = form;
	if (dataform_get_type(form) != DATAFORM_FORM)
		g_warning("prompts: %s: ferry's prompt '%s' with a form not of type form", bare_jid,
		          p->title);
	prompt_media_heading(p->form, title, instructions);
	g_message("prompts: %s: ferry's prompt %u open", bare_jid, p->id);
	start(p);
	hand_out(p);
	return p;
}

bool prompts_asking(const struct prompts *prompts, const char *bare_jid,
                    void (*answer)(void *data, const struct dataform *values))
{
	for (guint i = 0; i < prompts->open->len; i++) {
		const struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (p->account == 0 && p->answer == answer && strcmp(p->user, bare_jid) == 0)
			return true;
	}
	return false;
}

/* ---- BOB --------------------------------------------------------------------------------------- */

struct stanza *prompts_bob(const struct prompts *prompts, const char *bare_jid, const char *cid)
{
	for (guint i = 0; i < prompts->open->len; i++) {
		const struct prompt *p = g_ptr_array_index(prompts->open, i);
		if (strcmp(p->user, bare_jid) != 0)
			continue;
		for (guint j = 0; j < p->bobs->len; j++) {
			const struct stanza *d = g_ptr_array_index(p->bobs, j);
			if (g_strcmp0(stanza_get_attr(d, "cid"), cid) == 0)
				return stanza_copy(d);
		}
	}
	return NULL;
}

/* A BOB get to the transport (bare or full JID): the data of a picture
 * the asker was shown, from its open prompts; anyone else's cid is not
 * found. */
static enum router_result on_bob_iq(struct router *router, const struct stanza *iq, void *data)
{
	struct prompts *prompts = data;
	const struct stanza *q = stanza_find_child(iq, "data", NS_BOB);
	if (q == NULL || !router_to_transport(router, iq))
		return ROUTER_PASS;
	const char *cid = stanza_get_attr(q, "cid");
	if (g_strcmp0(stanza_get_type(iq), "get") != 0 || cid == NULL) {
		router_send_error(router, iq, "bad-request", NULL);
		return ROUTER_HANDLED;
	}
	g_autofree char *user = jid_bare_of(stanza_get_from(iq) != NULL ? stanza_get_from(iq) : "");
	struct stanza *d = user != NULL ? prompts_bob(prompts, user, cid) : NULL;
	if (d == NULL) {
		router_send_error(router, iq, "item-not-found", NULL);
		return ROUTER_HANDLED;
	}
	struct stanza *reply = stanza_new_reply(iq, "result");
	stanza_add_child_take(reply, d);
	router_send(router, reply);
	return ROUTER_HANDLED;
}
