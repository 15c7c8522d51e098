/* regform: builds the XEP-0077/XEP-0004 registration form from a protocol
 * description and reads submissions back. See include/ferry/regform.h. */
#include "config.h"
#include "ferry/regform.h"

#include <string.h>

#include "ferry/ns.h"
#include "ferry/secrets.h"
#include "ferry/worker_protocol.h"

/* The quark's name is stringified: clang-format must not space it out. */
/* clang-format off */
G_DEFINE_QUARK(ferry-regform-error-quark, regform_error)
/* clang-format on */

enum field_kind {
	FIELD_USERNAME,
	FIELD_PASSWORD,
	FIELD_SPLIT,  /* a part of the legacy account name */
	FIELD_OPTION, /* an account option */
};

enum value_kind { VALUE_TEXT, VALUE_BOOL, VALUE_INT, VALUE_LIST };

struct field {
	enum field_kind kind;
	enum value_kind value;
	char *var; /* form field name */
	char *label;
	char *def;          /* default (after presets); never NULL */
	char *option_key;   /* FIELD_OPTION: the account setting key */
	char *separator;    /* FIELD_SPLIT: joins it to the name */
	GPtrArray *choices; /* VALUE_LIST: char * pairs label, value */
	bool required;
	bool locked;
};

struct regform {
	char *protocol;
	char *protocol_name;
	guint32 flags;
	GPtrArray *fields; /* struct field *, form order */
};

static void field_free(gpointer data)
{
	struct field *f = data;
	g_free(f->var);
	g_free(f->label);
	g_free(f->def);
	g_free(f->option_key);
	g_free(f->separator);
	if (f->choices != NULL)
		g_ptr_array_unref(f->choices);
	g_free(f);
}

static struct field *find(const struct regform *form, const char *var)
{
	for (guint i = 0; i < form->fields->len; i++) {
		struct field *f = g_ptr_array_index(form->fields, i);
		if (strcmp(f->var, var) == 0)
			return f;
	}
	return NULL;
}

/* A split's field name: its label in lower case, spaces as '_'. */
static char *split_var(const char *label)
{
	char *v = g_utf8_strdown(label, -1);
	g_strdelimit(v, " ", '_');
	return v;
}

/* Normalizes VALUE for F; NULL when it does not fit. */
static char *normalize(const struct field *f, const char *value)
{
	switch (f->value) {
	case VALUE_BOOL:
		if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			return g_strdup("true");
		if (g_ascii_strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			return g_strdup("false");
		return NULL;
	case VALUE_INT: {
		gint64 n = 0;
		if (!g_ascii_string_to_signed(value, 10, G_MININT32, G_MAXINT32, &n, NULL))
			return NULL;
		return g_strdup_printf("%" G_GINT64_FORMAT, n);
	}
	case VALUE_LIST:
		for (guint i = 1; i < f->choices->len; i += 2)
			if (strcmp(g_ptr_array_index(f->choices, i), value) == 0)
				return g_strdup(value);
		return NULL;
	default:
		return g_utf8_validate(value, -1, NULL) ? g_strdup(value) : NULL;
	}
}

static void add_field(struct regform *form, struct field *f)
{
	g_ptr_array_add(form->fields, f);
}

static void build_fields(struct regform *form, GVariant *describe)
{
	const char *id, *name;
	guint32 flags;
	GVariantIter *splits, *options;
	g_variant_get(describe, "(&s&sua(sss)a(ssssa(ss)))", &id, &name, &flags, &splits, &options);
	form->protocol = g_strdup(id);
	form->protocol_name = g_strdup(name);
	form->flags = flags;

	struct field *user = g_new0(struct field, 1);
	user->kind = FIELD_USERNAME;
	user->var = g_strdup("username");
	user->label = g_strdup(strcmp(id, "prpl-irc") == 0 ? "Nickname" : "Username");
	user->def = g_strdup("");
	user->required = true;
	add_field(form, user);
	if (!(flags & WORKER_DESCRIBE_NO_PASSWORD)) {
		struct field *pw = g_new0(struct field, 1);
		pw->kind = FIELD_PASSWORD;
		pw->var = g_strdup("password");
		pw->label = g_strdup("Password");
		pw->def = g_strdup("");
		pw->required = !(flags & WORKER_DESCRIBE_PASSWORD_OPTIONAL);
		add_field(form, pw);
	}
	const char *label, *def, *sep;
	while (g_variant_iter_loop(splits, "(&s&s&s)", &label, &def, &sep)) {
		struct field *f = g_new0(struct field, 1);
		f->kind = FIELD_SPLIT;
		f->var = split_var(label);
		f->label = g_strdup(label);
		f->def = g_strdup(def);
		f->separator = g_strdup(sep);
		add_field(form, f);
	}
	g_variant_iter_free(splits);
	const char *key, *kind;
	GVariantIter *choices;
	while (
	    g_variant_iter_loop(options, "(&s&s&s&sa(ss))", &key, &kind, &label, &def, &choices)) {
		struct field *f = g_new0(struct field, 1);
		f->kind = FIELD_OPTION;
		f->option_key = g_strdup(key);
		f->var =
		    find(form, key) != NULL ? g_strdup_printf("option_%s", key) : g_strdup(key);
		f->label = g_strdup(label);
		f->value = strcmp(kind, "bool") == 0   ? VALUE_BOOL
		           : strcmp(kind, "int") == 0  ? VALUE_INT
		           : strcmp(kind, "list") == 0 ? VALUE_LIST
		                                       : VALUE_TEXT;
		if (f->value == VALUE_LIST) {
			f->choices = g_ptr_array_new_with_free_func(g_free);
			const char *cl, *cv;
			while (g_variant_iter_next(choices, "(&s&s)", &cl, &cv)) {
				g_ptr_array_add(f->choices, g_strdup(cl));
				g_ptr_array_add(f->choices, g_strdup(cv));
			}
		}
		char *norm = normalize(f, def);
		f->def = norm != NULL ? norm : g_strdup(def);
		add_field(form, f);
	}
	g_variant_iter_free(options);
}

struct regform *regform_new(GVariant *describe, GHashTable *presets, char **locked, GError **error)
{
	struct regform *form = g_new0(struct regform, 1);
	form->fields = g_ptr_array_new_with_free_func(field_free);
	build_fields(form, describe);
	if (presets != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, presets);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct field *f = find(form, k);
			if (f == NULL || f->kind == FIELD_PASSWORD) {
				g_set_error(
				    error, REGFORM_ERROR, 0,
				    "[legacy] %s: %s has no registration field of that name",
				    (char *)k, form->protocol);
				regform_free(form);
				return NULL;
			}
			char *norm = normalize(f, v);
			if (norm == NULL) {
				g_set_error(error, REGFORM_ERROR, 0,
				            "[legacy] %s: '%s' is not a valid value for this field",
				            (char *)k, (char *)v);
				regform_free(form);
				return NULL;
			}
			g_free(f->def);
			f->def = norm;
		}
	}
	for (gsize i = 0; locked != NULL && locked[i] != NULL; i++) {
		struct field *f = find(form, locked[i]);
		if (f == NULL || f->kind == FIELD_USERNAME || f->kind == FIELD_PASSWORD) {
			g_set_error(error, REGFORM_ERROR, 0,
			            "[legacy] locked: '%s' is not a field that can be locked",
			            locked[i]);
			regform_free(form);
			return NULL;
		}
		f->locked = true;
	}
	return form;
}

void regform_free(struct regform *form)
{
	if (form == NULL)
		return;
	g_ptr_array_unref(form->fields);
	g_free(form->protocol);
	g_free(form->protocol_name);
	g_free(form);
}

const char *regform_protocol(const struct regform *form)
{
	return form->protocol;
}

const char *regform_protocol_name(const struct regform *form)
{
	return form->protocol_name;
}

bool regform_password_optional(const struct regform *form)
{
	struct field *pw = find(form, "password");
	return pw == NULL || !pw->required;
}

static const char *field_type(const struct field *f)
{
	if (f->kind == FIELD_PASSWORD)
		return "text-private";
	switch (f->value) {
	case VALUE_BOOL:
		return "boolean";
	case VALUE_LIST:
		return "list-single";
	default:
		return "text-single";
	}
}

void regform_fill_query(const struct regform *form, struct stanza *query, GHashTable *values)
{
	g_autofree char *instructions = g_strdup_printf(
	    "Enter your %s account details. ferry checks them by logging in once before "
	    "storing them; your password is stored encrypted.",
	    form->protocol_name);
	stanza_add_text_child(query, "instructions", instructions);
	const char *user = values != NULL ? g_hash_table_lookup(values, "username") : NULL;
	stanza_add_text_child(query, "username", user != NULL ? user : "");
	if (find(form, "password") != NULL)
		stanza_add_child(query, "password", NULL);

	struct stanza *x = stanza_add_child(query, "x", NS_DATA);
	stanza_set_attr(x, "type", "form");
	g_autofree char *title = g_strdup_printf("%s registration", form->protocol_name);
	stanza_add_text_child(x, "title", title);
	stanza_add_text_child(x, "instructions", instructions);
	struct stanza *ft = stanza_add_child(x, "field", NULL);
	stanza_set_attr(ft, "type", "hidden");
	stanza_set_attr(ft, "var", "FORM_TYPE");
	stanza_add_text_child(ft, "value", NS_REGISTER);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		if (f->locked)
			continue;
		struct stanza *e = stanza_add_child(x, "field", NULL);
		stanza_set_attr(e, "type", field_type(f));
		stanza_set_attr(e, "var", f->var);
		stanza_set_attr(e, "label", f->label);
		if (f->required)
			stanza_add_child(e, "required", NULL);
		if (f->kind != FIELD_PASSWORD) {
			const char *v = values != NULL ? g_hash_table_lookup(values, f->var) : NULL;
			stanza_add_text_child(e, "value", v != NULL ? v : f->def);
		}
		for (guint c = 0; f->choices != NULL && c + 1 < f->choices->len; c += 2) {
			struct stanza *o = stanza_add_child(e, "option", NULL);
			stanza_set_attr(o, "label", g_ptr_array_index(f->choices, c));
			stanza_add_text_child(o, "value", g_ptr_array_index(f->choices, c + 1));
		}
	}
}

/* The submitted text of field VAR in form X, or NULL when absent. */
static char *form_value(const struct stanza *x, const char *var)
{
	for (struct stanza *c = stanza_next_child(x, NULL); c != NULL; c = stanza_next_child(x, c))
		if (stanza_is(c, "field", NULL) && g_strcmp0(stanza_get_attr(c, "var"), var) == 0)
			return stanza_get_child_text(c, "value", NULL);
	return NULL;
}

bool regform_parse(const struct regform *form, const struct stanza *query,
                   GHashTable **settings_out, char **password_out, char **error_text)
{
	const struct stanza *x = stanza_find_child(query, "x", NS_DATA);
	if (x != NULL && g_strcmp0(stanza_get_attr(x, "type"), "submit") != 0) {
		*error_text = g_strdup("the form must be of type 'submit'");
		return false;
	}
	GHashTable *settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char *password = NULL;
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		char *v = NULL;
		if (f->locked)
			v = g_strdup(f->def);
		else if (x != NULL)
			v = form_value(x, f->var);
		else if (f->kind == FIELD_USERNAME || f->kind == FIELD_PASSWORD)
			v = stanza_get_child_text(query, f->var, NULL);
		if (v != NULL && f->kind != FIELD_PASSWORD)
			g_strstrip(v);
		if (v == NULL || (*v == '\0' && f->kind != FIELD_PASSWORD)) {
			if (f->required) {
				*error_text = g_strdup_printf("the field '%s' (%s) is required",
				                              f->var, f->label);
				g_free(v);
				goto fail;
			}
			g_free(v);
			v = g_strdup(f->def);
		}
		if (f->kind == FIELD_PASSWORD) {
			if (*v == '\0' && f->required) {
				*error_text = g_strdup("a password is required");
				secrets_wipe_free(v);
				goto fail;
			}
			password = v;
			continue;
		}
		char *norm = normalize(f, v);
		if (norm == NULL) {
			*error_text = g_strdup_printf("'%s' is not a valid value for '%s' (%s)", v,
			                              f->var, f->label);
			g_free(v);
			goto fail;
		}
		g_free(v);
		g_hash_table_replace(settings, g_strdup(f->var), norm);
	}
	*settings_out = settings;
	*password_out = password != NULL ? password : g_strdup("");
	return true;
fail:
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
	return false;
}

/* A field's value: the locked preset, else the stored one, else the default. */
static const char *value_of(const struct field *f, GHashTable *settings)
{
	const char *v = f->locked ? NULL : g_hash_table_lookup(settings, f->var);
	return v != NULL ? v : f->def;
}

char *regform_legacy_username(const struct regform *form, GHashTable *settings)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		const char *v = value_of(f, settings);
		if (f->kind == FIELD_USERNAME)
			g_string_append(s, v);
		else if (f->kind == FIELD_SPLIT && *v != '\0')
			g_string_append_printf(s, "%s%s", f->separator, v);
	}
	return g_string_free(s, FALSE);
}

GHashTable *regform_account_options(const struct regform *form, GHashTable *settings)
{
	GHashTable *opts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		if (f->kind == FIELD_OPTION)
			g_hash_table_replace(opts, g_strdup(f->option_key),
			                     g_strdup(value_of(f, settings)));
	}
	return opts;
}
