/* chatbot_render: a command's stage as chat questions and chat answers as
 * field values (chatbot.h), after the conventions of
 * commands-and-requests.md §3: lists numbered (answer by number or
 * label), booleans yes/no, the default shown, `-` keeps it or leaves an
 * optional field empty. */
#include "config.h"
#include "chatbot.h"

#include <string.h>

/* ---- reading a <field/> ------------------------------------------------------------ */

static const char *type_of(const struct stanza *field)
{
	const char *type = stanza_get_attr(field, "type");
	return type != NULL ? type : "text-single"; /* XEP-0004 §3.3 */
}

static bool is_type(const struct stanza *field, const char *type)
{
	return strcmp(type_of(field), type) == 0;
}

static const char *name_of(const struct stanza *field)
{
	const char *label = stanza_get_attr(field, "label");
	if (label != NULL && *label != '\0')
		return label;
	const char *var = stanza_get_attr(field, "var");
	return var != NULL ? var : "";
}

static bool required(const struct stanza *field)
{
	return stanza_find_child(field, "required", NULL) != NULL;
}

/* The <value/>s of E (a field or an option), as text (caller frees the
 * array; it owns the strings). */
static GPtrArray *values_of(const struct stanza *e)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (const struct stanza *c = stanza_next_child(e, NULL); c != NULL;
	     c = stanza_next_child(e, c))
		if (stanza_is(c, "value", NULL)) {
			char *v = stanza_get_text(c);
			g_ptr_array_add(out, v != NULL ? v : g_strdup(""));
		}
	return out;
}

/* The non-empty values of E. */
static GPtrArray *defaults_of(const struct stanza *field)
{
	GPtrArray *v = values_of(field);
	for (guint i = v->len; i > 0; i--)
		if (*(const char *)g_ptr_array_index(v, i - 1) == '\0')
			g_ptr_array_remove_index(v, i - 1);
	return v;
}

/* The I-th <option/> of FIELD (from 0), or NULL. */
static const struct stanza *option_at(const struct stanza *field, guint i)
{
	guint n = 0;
	for (const struct stanza *c = stanza_next_child(field, NULL); c != NULL;
	     c = stanza_next_child(field, c))
		if (stanza_is(c, "option", NULL) && n++ == i)
			return c;
	return NULL;
}

static char *option_value(const struct stanza *option)
{
	char *v = stanza_get_child_text(option, "value", NULL);
	return v != NULL ? v : g_strdup("");
}

/* What the user sees of OPTION: its label, else its value. */
static char *option_label(const struct stanza *option)
{
	const char *label = stanza_get_attr(option, "label");
	if (label != NULL && *label != '\0')
		return g_strdup(label);
	return option_value(option);
}

/* The label of VALUE among FIELD's options, else VALUE. Caller frees. */
static char *label_of_value(const struct stanza *field, const char *value)
{
	const struct stanza *o;
	for (guint i = 0; (o = option_at(field, i)) != NULL; i++) {
		g_autofree char *v = option_value(o);
		if (strcmp(v, value) == 0)
			return option_label(o);
	}
	return g_strdup(value);
}

static bool is_list(const struct stanza *field)
{
	return is_type(field, "list-single") || is_type(field, "list-multi");
}

static bool is_boolean_true(const char *v)
{
	return g_ascii_strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* FIELD's values as the user reads them, joined by ", " (caller frees). */
static char *shown_values(const struct stanza *field, const GPtrArray *values)
{
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < values->len; i++) {
		const char *v = g_ptr_array_index(values, i);
		g_autofree char *shown = NULL;
		if (is_type(field, "boolean"))
			shown = g_strdup(is_boolean_true(v) ? "yes" : "no");
		else if (is_type(field, "text-private"))
			shown = g_strdup("(hidden)");
		else
			shown = is_list(field) ? label_of_value(field, v) : g_strdup(v);
		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", shown);
	}
	return g_string_free(out, false);
}

/* ---- a stage ---------------------------------------------------------------------- */

bool chatbot_asked(const struct stanza *field)
{
	return stanza_is(field, "field", NULL) && !is_type(field, "fixed") &&
	       !is_type(field, "hidden");
}

static void add_line(GString *out, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	g_string_append_printf(out, "%s%s", out->len > 0 ? "\n" : "", text);
}

char *chatbot_stage_text(const struct stanza *x)
{
	GString *out = g_string_new(NULL);
	g_autofree char *title = stanza_get_child_text(x, "title", NULL);
	add_line(out, title);
	for (const struct stanza *c = stanza_next_child(x, NULL); c != NULL;
	     c = stanza_next_child(x, c)) {
		if (stanza_is(c, "instructions", NULL)) {
			g_autofree char *text = stanza_get_text(c);
			add_line(out, text);
		} else if (stanza_is(c, "field", NULL) && is_type(c, "fixed")) {
			g_autoptr(GPtrArray) values = values_of(c);
			const char *label = stanza_get_attr(c, "label");
			/* a value that says its label already ("Label: value") */
			if (label == NULL || values->len == 0 ||
			    !g_str_has_prefix(g_ptr_array_index(values, 0), label))
				add_line(out, label);
			for (guint i = 0; i < values->len; i++)
				add_line(out, g_ptr_array_index(values, i));
		}
	}
	return g_string_free(out, false);
}

char *chatbot_question(const struct stanza *field, guint n, guint total, const char *command_route)
{
	GString *q = g_string_new(NULL);
	if (total > 1)
		g_string_append_printf(q, "(%u/%u) ", n, total);
	g_string_append_printf(q, "%s%s", name_of(field), required(field) ? "" : " (optional)");
	g_autofree char *desc = stanza_get_child_text(field, "desc", NULL);
	if (desc != NULL && *desc != '\0')
		g_string_append_printf(q, "\n%s", desc);
	const char *type = type_of(field);
	if (is_list(field)) {
		const struct stanza *o;
		for (guint i = 0; (o = option_at(field, i)) != NULL; i++) {
			g_autofree char *label = option_label(o);
			g_string_append_printf(q, "\n%u) %s", i + 1, label);
		}
		if (strcmp(type, "list-multi") == 0)
			g_string_append(q,
			                "\nAnswer with one or more numbers or names, separated by "
			                "commas or one per line.");
		else
			g_string_append(q, "\nAnswer with a number or a name.");
	} else if (strcmp(type, "boolean") == 0) {
		g_string_append(q, "\nAnswer yes or no.");
	} else if (strcmp(type, "text-multi") == 0) {
		g_string_append(q, "\nSeveral lines are fine.");
	} else if (strcmp(type, "jid-multi") == 0) {
		g_string_append(q,
		                "\nOne or more addresses, separated by spaces, commas or lines.");
	}
	g_autoptr(GPtrArray) defaults = defaults_of(field);
	if (defaults->len > 0) {
		g_autofree char *shown = shown_values(field, defaults);
		g_string_append_printf(q, "\nDefault: %s (send - to keep it).", shown);
	} else if (!required(field)) {
		g_string_append(q, "\nSend - to leave it empty.");
	}
	if (strcmp(type, "text-private") == 0) {
		g_string_append(q,
		                "\nThis answer is a secret, but what you type here stays in your "
		                "message archive on your server (and is copied to your other "
		                "devices by carbons). Delete it there afterwards if you can.");
		if (command_route != NULL && *command_route != '\0')
			g_string_append_printf(q, " %s", command_route);
	}
	g_string_append(q, "\n(Send abort to stop.)");
	return g_string_free(q, false);
}

/* ---- an answer -------------------------------------------------------------------- */

/* The option of FIELD that TOKEN names (its number from 1, its label or
 * value, any case): its value (caller frees), or NULL. */
static char *pick(const struct stanza *field, const char *token)
{
	guint64 n = 0;
	const struct stanza *o;
	if (g_ascii_string_to_unsigned(token, 10, 1, G_MAXUINT, &n, NULL)) {
		o = option_at(field, (guint)n - 1);
		if (o != NULL)
			return option_value(o);
	}
	g_autofree char *want = g_utf8_casefold(token, -1);
	for (guint pass = 0; pass < 2; pass++)
		for (guint i = 0; (o = option_at(field, i)) != NULL; i++) {
			g_autofree char *text = pass == 0 ? option_label(o) : option_value(o);
			g_autofree char *key = g_utf8_casefold(text, -1);
			if (strcmp(key, want) == 0)
				return option_value(o);
		}
	return NULL;
}

/* ANSWER split at any of SEPARATORS, trimmed, empty parts dropped. */
static GPtrArray *split(const char *answer, const char *separators)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) parts = g_strsplit_set(answer, separators, -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (*parts[i] != '\0')
			g_ptr_array_add(out, g_strdup(parts[i]));
	}
	return out;
}

static enum chatbot_answer read_list(const struct stanza *field, const char *text,
                                     GPtrArray **values, char **why)
{
	bool multi = is_type(field, "list-multi");
	g_autoptr(GPtrArray) tokens =
	    multi ? split(text, ",\n") : g_ptr_array_new_with_free_func(g_free);
	if (!multi)
		g_ptr_array_add(tokens, g_strdup(text));
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < tokens->len; i++) {
		const char *token = g_ptr_array_index(tokens, i);
		char *value = pick(field, token);
		if (value == NULL) {
			*why = g_strdup_printf("\"%s\" is not one of the choices: answer with its "
			                       "number or its name.",
			                       token);
			g_ptr_array_unref(out);
			return CHATBOT_ANSWER_AGAIN;
		}
		bool seen = false;
		for (guint j = 0; j < out->len && !seen; j++)
			seen = strcmp(g_ptr_array_index(out, j), value) == 0;
		if (seen)
			g_free(value);
		else
			g_ptr_array_add(out, value);
	}
	*values = out;
	return CHATBOT_ANSWER_VALUES;
}

enum chatbot_answer chatbot_read_answer(const struct stanza *field, const char *answer,
                                        GPtrArray **values, char **why)
{
	*values = NULL;
	*why = NULL;
	g_autofree char *text = g_strstrip(g_strdup(answer != NULL ? answer : ""));
	if (strcmp(text, "-") == 0 || *text == '\0') {
		GPtrArray *defaults = defaults_of(field);
		if (defaults->len > 0) {
			*values = defaults;
			return CHATBOT_ANSWER_VALUES;
		}
		g_ptr_array_unref(defaults);
		if (!required(field))
			return CHATBOT_ANSWER_SKIP;
		*why = g_strdup_printf("%s is needed: it has no default.", name_of(field));
		return CHATBOT_ANSWER_AGAIN;
	}
	const char *type = type_of(field);
	if (is_list(field))
		return read_list(field, text, values, why);
	GPtrArray *out = NULL;
	if (strcmp(type, "boolean") == 0) {
		/* §3: an answer starting with y confirms, anything else does not */
		bool yes = text[0] == 'y' || text[0] == 'Y' || is_boolean_true(text);
		out = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(out, g_strdup(yes ? "true" : "false"));
	} else if (strcmp(type, "text-multi") == 0) {
		out = g_ptr_array_new_with_free_func(g_free);
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++)
			g_ptr_array_add(out, g_strdup(g_strchomp(lines[i])));
	} else if (strcmp(type, "jid-multi") == 0) {
		out = split(text, " \t,\n\r");
	} else if (strcmp(type, "text-private") == 0) {
		/* a secret as typed, only the line end a client may add gone */
		gsize len = strlen(answer);
		while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r'))
			len--;
		out = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(out, g_strndup(answer, len));
	} else {
		out = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(out, g_strdup(text));
	}
	*values = out;
	return CHATBOT_ANSWER_VALUES;
}

/* ---- a result --------------------------------------------------------------------- */

/* The columns of the <reported/> of X as (var, label) <field/>s. */
static void table_text(const struct stanza *x, GString *out)
{
	const struct stanza *reported = stanza_find_child(x, "reported", NULL);
	if (reported == NULL)
		return;
	GPtrArray *vars = g_ptr_array_new();
	GString *header = g_string_new(NULL);
	for (const struct stanza *c = stanza_next_child(reported, NULL); c != NULL;
	     c = stanza_next_child(reported, c)) {
		if (!stanza_is(c, "field", NULL) || stanza_get_attr(c, "var") == NULL)
			continue;
		g_ptr_array_add(vars, (gpointer)stanza_get_attr(c, "var"));
		g_string_append_printf(header, "%s%s", header->len > 0 ? " | " : "", name_of(c));
	}
	add_line(out, header->str);
	g_string_free(header, true);
	guint rows = 0;
	for (const struct stanza *item = stanza_next_child(x, NULL); item != NULL;
	     item = stanza_next_child(x, item)) {
		if (!stanza_is(item, "item", NULL))
			continue;
		rows++;
		GString *line = g_string_new(NULL);
		for (guint i = 0; i < vars->len; i++) {
			const struct stanza *cell = NULL;
			for (const struct stanza *f = stanza_next_child(item, NULL); f != NULL;
			     f = stanza_next_child(item, f))
				if (g_strcmp0(stanza_get_attr(f, "var"),
				              g_ptr_array_index(vars, i)) == 0)
					cell = f;
			g_autoptr(GPtrArray) values =
			    cell != NULL ? values_of(cell) : g_ptr_array_new_with_free_func(g_free);
			g_autofree char *joined = shown_values(cell != NULL ? cell : item, values);
			g_string_append_printf(line, "%s%s", i > 0 ? " | " : "",
			                       *joined != '\0' ? joined : "-");
		}
		add_line(out, line->str);
		g_string_free(line, true);
	}
	if (rows == 0)
		add_line(out, "(none)");
	g_ptr_array_unref(vars);
}

char *chatbot_result_text(const struct dataform *result)
{
	struct stanza *holder = stanza_new("message");
	const struct stanza *x = dataform_add_to(result, holder);
	g_autofree char *head = chatbot_stage_text(x);
	GString *out = g_string_new(head);
	for (const struct stanza *f = stanza_next_child(x, NULL); f != NULL;
	     f = stanza_next_child(x, f)) {
		if (!stanza_is(f, "field", NULL) || is_type(f, "fixed") || is_type(f, "hidden"))
			continue;
		g_autoptr(GPtrArray) values = values_of(f);
		g_autofree char *shown = shown_values(f, values);
		g_autofree char *line = g_strdup_printf("%s: %s", name_of(f), shown);
		add_line(out, line);
	}
	table_text(x, out);
	stanza_free(holder);
	return g_string_free(out, false);
}

char *chatbot_end_text(const struct cmd_def *def, enum cmd_end why, const char *note,
                       const struct dataform *result, const char *condition, guint idle_seconds,
                       bool prompt)
{
	bool has_note = note != NULL && *note != '\0';
	switch (why) {
	case CMD_END_COMPLETED: {
		g_autofree char *r = result != NULL ? chatbot_result_text(result) : g_strdup("");
		const char *head = has_note ? note : "Done.";
		return *r != '\0' ? g_strdup_printf("%s\n%s", head, r) : g_strdup(head);
	}
	case CMD_END_FAILED:
		return g_strdup_printf("Failed: %s", has_note            ? note
		                                     : condition != NULL ? condition
		                                                         : "error");
	case CMD_END_CANCELED:
		return g_strdup(prompt ? "Cancelled: the question was refused." : "Cancelled.");
	case CMD_END_EXPIRED:
		if (prompt)
			return g_strdup_printf("No answer for %u s: I stopped asking. The question "
			                       "stays open for a while: send prompts to answer it.",
			                       idle_seconds);
		return g_strdup_printf(
		    "No answer for %u s: the command '%s' expired. Send %s to start again.",
		    idle_seconds, def->word != NULL ? def->word : def->node,
		    def->word != NULL ? def->word : "help");
	case CMD_END_GONE:
		break;
	}
	return NULL;
}

char *chatbot_word(const char *body, const char **rest)
{
	*rest = "";
	if (body == NULL)
		return NULL;
	const char *p = body;
	while (g_ascii_isspace(*p))
		p++;
	if (*p == '/' || *p == '!')
		p++;
	const char *end = p;
	while (*end != '\0' && !g_ascii_isspace(*end))
		end++;
	if (end == p)
		return NULL;
	const char *r = end;
	while (g_ascii_isspace(*r))
		r++;
	*rest = r;
	g_autofree char *word = g_strndup(p, (gsize)(end - p));
	return g_utf8_strdown(word, -1);
}
