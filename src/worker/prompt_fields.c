/* prompt_fields: a PurpleRequestFields as a PROMPT's form, and an
 * answer written back into it with libpurple's setters.
 *
 * Per field (commands-and-requests.md §4): STRING is text-single,
 * text-private (masked) or text-multi (multiline), fixed when not
 * editable; INTEGER text-single marked integer; BOOLEAN boolean; CHOICE
 * list-single by index; LIST list-single or list-multi by index, the
 * selected items preselected; LABEL fixed; IMAGE fixed with the picture.
 * An ACCOUNT field is not shown and gets the worker's account; an
 * invisible field is not shown and keeps its value. A group's title is a
 * fixed separator. Vars are the field ids when unique, else field<N>. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void prompt_field_free(gpointer data)
{
	struct prompt_field *f = data;
	g_free(f->var);
	g_free(f);
}

GHashTable *prompt_entry_new(GPtrArray *form, const char *type, const char *var, const char *label)
{
	GHashTable *f = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_TYPE, g_strdup(type));
	g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_VAR, g_strdup(var != NULL ? var : ""));
	if (label != NULL && *label != '\0')
		g_hash_table_insert(f, (gpointer)WORKER_PROMPT_FIELD_LABEL, g_strdup(label));
	g_ptr_array_add(form, f);
	return f;
}

void prompt_entry_set(GHashTable *entry, const char *key, const char *value)
{
	if (value != NULL)
		g_hash_table_insert(entry, (gpointer)key, g_strdup(value));
}

void prompt_entry_image(GHashTable *entry, gconstpointer data, gsize size)
{
	if (data == NULL || size == 0)
		return;
	if (size > WORKER_PROMPT_IMAGE_MAX) {
		g_hash_table_insert(
		    entry, (gpointer)WORKER_PROMPT_FIELD_DESC,
		    g_strdup_printf("(a picture of %zu bytes, too large to show)", size));
		return;
	}
	g_hash_table_insert(entry, (gpointer)WORKER_PROMPT_FIELD_IMAGE,
	                    g_base64_encode(data, size));
}

/* Sets KEY to VALUE (taken; NULL: left out). */
static void entry_set(GHashTable *f, const char *key, char *value)
{
	if (value != NULL)
		g_hash_table_insert(f, (gpointer)key, value);
}

/* "0\tRed\n1\tGreen" from a list of labels. */
static char *options_of(GList *labels)
{
	GString *s = g_string_new(NULL);
	guint i = 0;
	for (GList *l = labels; l != NULL; l = l->next, i++) {
		g_autofree char *label = g_strdup(l->data != NULL ? l->data : "");
		g_strdelimit(label, "\t\n", ' ');
		g_string_append_printf(s, "%s%u\t%s", i ? "\n" : "", i, label);
	}
	return g_string_free(s, FALSE);
}

static char *list_selection(PurpleRequestField *field)
{
	GString *s = g_string_new(NULL);
	guint i = 0;
	for (GList *l = purple_request_field_list_get_items(field); l != NULL; l = l->next, i++)
		if (purple_request_field_list_is_selected(field, l->data))
			g_string_append_printf(s, "%s%u", s->len ? "\n" : "", i);
	return g_string_free(s, FALSE);
}

/* One shown field's entry; false when it is not shown. */
static bool add_field(GPtrArray *form, PurpleRequestField *field, const char *var)
{
	const char *label = purple_request_field_get_label(field);
	GHashTable *e = NULL;
	switch (purple_request_field_get_type(field)) {
	case PURPLE_REQUEST_FIELD_STRING: {
		const char *value = purple_request_field_string_get_value(field);
		const char *type = !purple_request_field_string_is_editable(field) ? "fixed"
		                   : purple_request_field_string_is_masked(field)  ? "text-private"
		                   : purple_request_field_string_is_multiline(field)
		                       ? "text-multi"
		                       : "text-single";
		e = prompt_entry_new(form, type, var, label);
		entry_set(e, WORKER_PROMPT_FIELD_VALUE, g_strdup(value != NULL ? value : ""));
		break;
	}
	case PURPLE_REQUEST_FIELD_INTEGER:
		e = prompt_entry_new(form, "text-single", var, label);
		entry_set(e, WORKER_PROMPT_FIELD_INTEGER, g_strdup("1"));
		entry_set(e, WORKER_PROMPT_FIELD_VALUE,
		          g_strdup_printf("%d", purple_request_field_int_get_value(field)));
		break;
	case PURPLE_REQUEST_FIELD_BOOLEAN:
		e = prompt_entry_new(form, "boolean", var, label);
		entry_set(e, WORKER_PROMPT_FIELD_VALUE,
		          g_strdup(purple_request_field_bool_get_value(field) ? "1" : "0"));
		break;
	case PURPLE_REQUEST_FIELD_CHOICE:
		e = prompt_entry_new(form, "list-single", var, label);
		entry_set(e, WORKER_PROMPT_FIELD_OPTIONS,
		          options_of(purple_request_field_choice_get_labels(field)));
		entry_set(e, WORKER_PROMPT_FIELD_VALUE,
		          g_strdup_printf("%d", purple_request_field_choice_get_value(field)));
		break;
	case PURPLE_REQUEST_FIELD_LIST:
		e = prompt_entry_new(form,
		                     purple_request_field_list_get_multi_select(field)
		                         ? "list-multi"
		                         : "list-single",
		                     var, label);
		entry_set(e, WORKER_PROMPT_FIELD_OPTIONS,
		          options_of(purple_request_field_list_get_items(field)));
		entry_set(e, WORKER_PROMPT_FIELD_VALUE, list_selection(field));
		break;
	case PURPLE_REQUEST_FIELD_LABEL:
		e = prompt_entry_new(form, "fixed", var, label);
		entry_set(e, WORKER_PROMPT_FIELD_VALUE, g_strdup(label != NULL ? label : ""));
		break;
	case PURPLE_REQUEST_FIELD_IMAGE:
		e = prompt_entry_new(form, "fixed", var, label);
		prompt_entry_image(e, purple_request_field_image_get_buffer(field),
		                   purple_request_field_image_get_size(field));
		break;
	default: /* ACCOUNT (filled on answer), NONE */
		return false;
	}
	if (purple_request_field_is_required(field))
		entry_set(e, WORKER_PROMPT_FIELD_REQUIRED, g_strdup("1"));
	const char *hint = purple_request_field_get_type_hint(field);
	if (hint != NULL && *hint != '\0' && strcmp(hint, "account") != 0)
		entry_set(e, WORKER_PROMPT_FIELD_DESC, g_strdup(hint));
	return true;
}

GPtrArray *prompt_fields_form(PurpleRequestFields *fields, GPtrArray *shown)
{
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	GHashTable *vars = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = 0;
	for (GList *g = purple_request_fields_get_groups(fields); g != NULL; g = g->next) {
		const char *title = purple_request_field_group_get_title(g->data);
		if (title != NULL && *title != '\0') {
			GHashTable *e = prompt_entry_new(form, "fixed", "", NULL);
			entry_set(e, WORKER_PROMPT_FIELD_VALUE, g_strdup(title));
		}
		for (GList *l = purple_request_field_group_get_fields(g->data); l != NULL;
		     l = l->next, n++) {
			PurpleRequestField *field = l->data;
			if (!purple_request_field_is_visible(field) ||
			    purple_request_field_get_type(field) == PURPLE_REQUEST_FIELD_ACCOUNT) {
				/* kept as it is; an account field is filled on answer */
				struct prompt_field *pf = g_new0(struct prompt_field, 1);
				pf->field = field;
				g_ptr_array_add(shown, pf);
				continue;
			}
			const char *id = purple_request_field_get_id(field);
			char *var = id != NULL && *id != '\0' && strcmp(id, "value") != 0 &&
			                    !g_hash_table_contains(vars, id)
			                ? g_strdup(id)
			                : g_strdup_printf("field%u", n);
			if (!add_field(form, field, var)) {
				g_free(var);
				continue;
			}
			struct prompt_field *pf = g_new0(struct prompt_field, 1);
			pf->var = var;
			pf->field = field;
			g_hash_table_add(vars, pf->var);
			g_ptr_array_add(shown, pf);
		}
	}
	g_hash_table_unref(vars);
	return form;
}

/* ---- answers ------------------------------------------------------------------- */

static bool parse_index(const char *s, guint n, guint *out)
{
	if (s == NULL || *s == '\0' || !g_ascii_isdigit(*s))
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= n)
		return false;
	*out = (guint)v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	if (g_strcmp0(s, "1") == 0 || g_ascii_strcasecmp(s, "true") == 0)
		*out = true;
	else if (g_strcmp0(s, "0") == 0 || g_ascii_strcasecmp(s, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

/* Whether VALUE (NULL: not given) fits FIELD; the reason in *WHY. */
static bool check_value(PurpleRequestField *field, const char *var, const char *value, char **why)
{
	const char *label = purple_request_field_get_label(field);
	const char *name = label != NULL && *label != '\0' ? label : var;
	bool required = purple_request_field_is_required(field);
	switch (purple_request_field_get_type(field)) {
	case PURPLE_REQUEST_FIELD_STRING: {
		if (!purple_request_field_string_is_editable(field))
			return true;
		const char *now =
		    value != NULL ? value : purple_request_field_string_get_value(field);
		if (required && (now == NULL || *now == '\0')) {
			*why = g_strdup_printf("'%s' (%s) is required", var, name);
			return false;
		}
		return true;
	}
	case PURPLE_REQUEST_FIELD_INTEGER: {
		if (value == NULL)
			return true;
		char *end = NULL;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (*value == '\0' || errno != 0 || *end != '\0' || v < G_MININT || v > G_MAXINT) {
			*why = g_strdup_printf("'%s' (%s) must be a whole number", var, name);
			return false;
		}
		return true;
	}
	case PURPLE_REQUEST_FIELD_BOOLEAN: {
		bool b;
		if (value != NULL && !parse_bool(value, &b)) {
			*why = g_strdup_printf("'%s' (%s) must be true or false", var, name);
			return false;
		}
		return true;
	}
	case PURPLE_REQUEST_FIELD_CHOICE: {
		guint i, n = g_list_length(purple_request_field_choice_get_labels(field));
		if (value != NULL && !parse_index(value, n, &i)) {
			*why = g_strdup_printf("'%s' (%s) is not one of the options", var, name);
			return false;
		}
		return true;
	}
	case PURPLE_REQUEST_FIELD_LIST: {
		if (value == NULL)
			return true;
		guint n = g_list_length(purple_request_field_list_get_items(field)), i;
		g_auto(GStrv) items = g_strsplit(value, "\n", -1);
		guint count = 0;
		for (char **it = items; *it != NULL; it++) {
			if (**it == '\0')
				continue;
			if (!parse_index(*it, n, &i)) {
				*why = g_strdup_printf("'%s' (%s): '%s' is not one of the options",
				                       var, name, *it);
				return false;
			}
			count++;
		}
		if (count > 1 && !purple_request_field_list_get_multi_select(field)) {
			*why = g_strdup_printf("'%s' (%s) takes one choice", var, name);
			return false;
		}
		if (required && count == 0) {
			*why = g_strdup_printf("'%s' (%s) is required", var, name);
			return false;
		}
		return true;
	}
	default:
		return true;
	}
}

static void set_value(PurpleRequestField *field, const char *value, PurpleAccount *pa)
{
	bool b = false;
	guint i = 0;
	switch (purple_request_field_get_type(field)) {
	case PURPLE_REQUEST_FIELD_STRING:
		if (purple_request_field_string_is_editable(field))
			purple_request_field_string_set_value(field, value);
		break;
	case PURPLE_REQUEST_FIELD_INTEGER:
		purple_request_field_int_set_value(field, (int)strtol(value, NULL, 10));
		break;
	case PURPLE_REQUEST_FIELD_BOOLEAN:
		if (parse_bool(value, &b))
			purple_request_field_bool_set_value(field, b);
		break;
	case PURPLE_REQUEST_FIELD_CHOICE:
		if (parse_index(value, G_MAXUINT, &i))
			purple_request_field_choice_set_value(field, (int)i);
		break;
	case PURPLE_REQUEST_FIELD_LIST: {
		GList *items = purple_request_field_list_get_items(field);
		guint n = g_list_length(items);
		purple_request_field_list_clear_selected(field);
		g_auto(GStrv) picked = g_strsplit(value, "\n", -1);
		for (char **it = picked; *it != NULL; it++)
			if (parse_index(*it, n, &i))
				purple_request_field_list_add_selected(field,
				                                       g_list_nth_data(items, i));
		break;
	}
	case PURPLE_REQUEST_FIELD_ACCOUNT:
		if (pa != NULL)
			purple_request_field_account_set_value(field, pa);
		break;
	default:
		break;
	}
}

bool prompt_fields_apply(GPtrArray *shown, GHashTable *values, PurpleAccount *pa, char **why)
{
	/* every value checked before any is written */
	for (guint i = 0; i < shown->len; i++) {
		struct prompt_field *pf = g_ptr_array_index(shown, i);
		if (pf->var == NULL)
			continue;
		if (!check_value(pf->field, pf->var, g_hash_table_lookup(values, pf->var), why))
			return false;
	}
	for (guint i = 0; i < shown->len; i++) {
		struct prompt_field *pf = g_ptr_array_index(shown, i);
		if (pf->var == NULL) {
			if (purple_request_field_get_type(pf->field) ==
			    PURPLE_REQUEST_FIELD_ACCOUNT)
				set_value(pf->field, NULL, pa);
			continue;
		}
		const char *value = g_hash_table_lookup(values, pf->var);
		if (value != NULL)
			set_value(pf->field, value, pa);
	}
	return true;
}
