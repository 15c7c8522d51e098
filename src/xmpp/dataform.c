/* dataform: XEP-0004 data forms (with XEP-0122 integer ranges): the form
 * model, its <x/> element both ways, and the check of a submission against
 * the form it answers. See include/ferry/dataform.h.
 *
 * Fields are a singly linked list (FORM_TYPE goes in front, the rest are
 * appended); forms have a few dozen fields at most, so lookups are linear.
 * Every value is wiped when the form is freed (a password may come in a
 * field without a type). ferry/secrets.h has secrets_wipe_free, but
 * src/xmpp/ does not depend on storage: the few lines are repeated here.
 */
#include "config.h"
#include "ferry/dataform.h"

#include <openssl/crypto.h>
#include <string.h>

#include "ferry/jid.h"
#include "ferry/ns.h"

G_DEFINE_QUARK(ferry-dataform-error-quark, dataform_error);

#define FORM_TYPE_VAR "FORM_TYPE" /* XEP-0068 */

struct option {
	char *label; /* NULL when absent */
	char *value;
};

struct dataform_field {
	struct dataform_field *next; /* the next field in form order; NULL at the end */
	enum dataform_field_type type;
	char *var;          /* NULL only for fixed fields */
	char *label;        /* NULL when absent */
	char *desc;         /* NULL when absent */
	bool required;      /* <required/> */
	bool integer;       /* XEP-0122 xs:integer, from min to max */
	gint64 min, max;    /* the range, inclusive, when integer */
	GPtrArray *values;  /* char *, in order */
	GPtrArray *options; /* struct option *, in order */
	GPtrArray *media;   /* struct media *, in order (XEP-0221); NULL when none */
};

struct dataform {
	enum dataform_type type;
	char *title;                  /* NULL when absent */
	GPtrArray *instructions;      /* char *, one per <instructions/> */
	struct dataform_field *first; /* fields in form order */
	struct dataform_field *last;  /* tail, for appending */
};

/* Names as XEP-0004 writes them, indexed by the enums. */
static const char *const form_type_names[] = {
    [DATAFORM_FORM] = "form",
    [DATAFORM_SUBMIT] = "submit",
    [DATAFORM_CANCEL] = "cancel",
    [DATAFORM_RESULT] = "result",
};

static const char *const field_type_names[] = {
    [DATAFORM_BOOLEAN] = "boolean",
    [DATAFORM_FIXED] = "fixed",
    [DATAFORM_HIDDEN] = "hidden",
    [DATAFORM_JID_MULTI] = "jid-multi",
    [DATAFORM_JID_SINGLE] = "jid-single",
    [DATAFORM_LIST_MULTI] = "list-multi",
    [DATAFORM_LIST_SINGLE] = "list-single",
    [DATAFORM_TEXT_MULTI] = "text-multi",
    [DATAFORM_TEXT_PRIVATE] = "text-private",
    [DATAFORM_TEXT_SINGLE] = "text-single",
};

/* The index of NAME in NAMES (N entries), or -1. */
static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* true for the types that carry at most one value. */
static bool single_valued(enum dataform_field_type type)
{
	switch (type) {
	case DATAFORM_BOOLEAN:
	case DATAFORM_HIDDEN:
	case DATAFORM_JID_SINGLE:
	case DATAFORM_LIST_SINGLE:
	case DATAFORM_TEXT_PRIVATE:
	case DATAFORM_TEXT_SINGLE:
		return true;
	default:
		return false;
	}
}

static bool is_list(enum dataform_field_type type)
{
	return type == DATAFORM_LIST_SINGLE || type == DATAFORM_LIST_MULTI;
}

static void wipe_free(gpointer data)
{
	char *text = data;
	OPENSSL_cleanse(text, strlen(text));
	g_free(text);
}

static void option_free(gpointer data)
{
	struct option *o = data;
	g_free(o->label);
	g_free(o->value);
	g_free(o);
}

static void field_free(struct dataform_field *field)
{
	g_free(field->var);
	g_free(field->label);
	g_free(field->desc);
	g_ptr_array_unref(field->values);
	g_ptr_array_unref(field->options);
	if (field->media != NULL)
		g_ptr_array_unref(field->media);
	g_free(field);
}

/* ---- building ----------------------------------------------------------- */

struct dataform *dataform_new(enum dataform_type type)
{
	g_return_val_if_fail(type >= DATAFORM_FORM && type <= DATAFORM_RESULT, NULL);
	struct dataform *form = g_new0(struct dataform, 1);
	form->type = type;
	form->instructions = g_ptr_array_new_with_free_func(g_free);
	return form;
}

void dataform_free(struct dataform *form)
{
	if (form == NULL)
		return;
	struct dataform_field *next;
	for (struct dataform_field *f = form->first; f != NULL; f = next) {
		next = f->next;
		field_free(f);
	}
	g_ptr_array_unref(form->instructions);
	g_free(form->title);
	g_free(form);
}

enum dataform_type dataform_get_type(const struct dataform *form)
{
	g_return_val_if_fail(form != NULL, DATAFORM_FORM);
	return form->type;
}

void dataform_set_title(struct dataform *form, const char *title)
{
	g_return_if_fail(form != NULL);
	g_free(form->title);
	form->title = g_strdup(title);
}

void dataform_add_instructions(struct dataform *form, const char *text)
{
	g_return_if_fail(form != NULL && text != NULL);
	g_ptr_array_add(form->instructions, g_strdup(text));
}

/* A new field, not yet in a form. */
static struct dataform_field *field_new(enum dataform_field_type type, const char *var,
                                        const char *label)
{
	struct dataform_field *f = g_new0(struct dataform_field, 1);
	f->type = type;
	f->var = g_strdup(var);
	f->label = g_strdup(label);
	/* Every value is wiped when freed, not only text-private ones: a
	 * submission may carry a password in a field without a type. */
	f->values = g_ptr_array_new_with_free_func(wipe_free);
	f->options = g_ptr_array_new_with_free_func(option_free);
	return f;
}

static void append(struct dataform *form, struct dataform_field *f)
{
	if (form->last != NULL)
		form->last->next = f;
	else
		form->first = f;
	form->last = f;
}

void dataform_set_form_type(struct dataform *form, const char *form_type)
{
	g_return_if_fail(form != NULL && form_type != NULL);
	struct dataform_field *f = dataform_find_field(form, FORM_TYPE_VAR);
	if (f == NULL) {
		f = field_new(DATAFORM_HIDDEN, FORM_TYPE_VAR, NULL);
		f->next = form->first;
		form->first = f;
		if (form->last == NULL)
			form->last = f;
	}
	g_ptr_array_set_size(f->values, 0);
	g_ptr_array_add(f->values, g_strdup(form_type));
}

const char *dataform_get_form_type(const struct dataform *form)
{
	return dataform_get_value(form, FORM_TYPE_VAR);
}

struct dataform_field *dataform_add_field(struct dataform *form, enum dataform_field_type type,
                                          const char *var, const char *label)
{
	g_return_val_if_fail(form != NULL, NULL);
	g_return_val_if_fail(type >= DATAFORM_BOOLEAN && type <= DATAFORM_TEXT_SINGLE, NULL);
	g_return_val_if_fail(var != NULL || type == DATAFORM_FIXED, NULL);
	g_return_val_if_fail(var == NULL || dataform_find_field(form, var) == NULL, NULL);
	struct dataform_field *f = field_new(type, var, label);
	append(form, f);
	return f;
}

void dataform_field_set_required(struct dataform_field *field, bool required)
{
	g_return_if_fail(field != NULL);
	field->required = required;
}

void dataform_field_set_desc(struct dataform_field *field, const char *desc)
{
	g_return_if_fail(field != NULL);
	g_free(field->desc);
	field->desc = g_strdup(desc);
}

void dataform_field_set_integer(struct dataform_field *field, gint64 min, gint64 max)
{
	g_return_if_fail(field != NULL && field->type == DATAFORM_TEXT_SINGLE);
	g_return_if_fail(min <= max);
	field->integer = true;
	field->min = min;
	field->max = max;
}

void dataform_field_add_value(struct dataform_field *field, const char *value)
{
	g_return_if_fail(field != NULL && value != NULL);
	if (single_valued(field->type))
		g_ptr_array_set_size(field->values, 0);
	g_ptr_array_add(field->values, g_strdup(value));
}

void dataform_field_add_option(struct dataform_field *field, const char *label, const char *value)
{
	g_return_if_fail(field != NULL && is_list(field->type) && value != NULL);
	struct option *o = g_new0(struct option, 1);
	o->label = g_strdup(label);
	o->value = g_strdup(value);
	g_ptr_array_add(field->options, o);
}

/* ---- reading ------------------------------------------------------------ */

struct dataform_field *dataform_find_field(const struct dataform *form, const char *var)
{
	g_return_val_if_fail(form != NULL && var != NULL, NULL);
	for (struct dataform_field *f = form->first; f != NULL; f = f->next) {
		if (f->var != NULL && strcmp(f->var, var) == 0)
			return f;
	}
	return NULL;
}

struct dataform_field *dataform_next_field(const struct dataform *form,
                                           const struct dataform_field *prev)
{
	g_return_val_if_fail(form != NULL, NULL);
	return prev != NULL ? prev->next : form->first;
}

enum dataform_field_type dataform_field_type(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, DATAFORM_TEXT_SINGLE);
	return field->type;
}

const char *dataform_field_var(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, NULL);
	return field->var;
}

const char *dataform_field_label(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, NULL);
	return field->label;
}

bool dataform_field_required(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, false);
	return field->required;
}

const GPtrArray *dataform_field_values(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, NULL);
	return field->values;
}

const char *dataform_field_value(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, NULL);
	return field->values->len > 0 ? g_ptr_array_index(field->values, 0) : NULL;
}

const char *dataform_get_value(const struct dataform *form, const char *var)
{
	g_return_val_if_fail(form != NULL && var != NULL, NULL);
	const struct dataform_field *f = dataform_find_field(form, var);
	return f != NULL ? dataform_field_value(f) : NULL;
}

/* ---- XML ---------------------------------------------------------------- */

static void write_media(const struct dataform_field *f, struct stanza *e);

static void write_field(const struct dataform_field *f, struct stanza *x)
{
	struct stanza *e = stanza_add_child(x, "field", NULL);
	stanza_set_attr(e, "type", field_type_names[f->type]);
	stanza_set_attr(e, "var", f->var);
	stanza_set_attr(e, "label", f->label);
	if (f->desc != NULL)
		stanza_add_text_child(e, "desc", f->desc);
	if (f->required)
		stanza_add_child(e, "required", NULL);
	if (f->integer) {
		struct stanza *v = stanza_add_child(e, "validate", NS_DATA_VALIDATE);
		stanza_set_attr(v, "datatype", "xs:integer");
		struct stanza *range = stanza_add_child(v, "range", NULL);
		char n[24];
		g_snprintf(n, sizeof(n), "%" G_GINT64_FORMAT, f->min);
		stanza_set_attr(range, "min", n);
		g_snprintf(n, sizeof(n), "%" G_GINT64_FORMAT, f->max);
		stanza_set_attr(range, "max", n);
	}
	for (guint i = 0; i < f->values->len; i++)
		stanza_add_text_child(e, "value", g_ptr_array_index(f->values, i));
	for (guint i = 0; i < f->options->len; i++) {
		const struct option *o = g_ptr_array_index(f->options, i);
		struct stanza *oe = stanza_add_child(e, "option", NULL);
		stanza_set_attr(oe, "label", o->label);
		stanza_add_text_child(oe, "value", o->value);
	}
	write_media(f, e);
}

struct stanza *dataform_add_to(const struct dataform *form, struct stanza *parent)
{
	g_return_val_if_fail(form != NULL && parent != NULL, NULL);
	struct stanza *x = stanza_add_child(parent, "x", NS_DATA);
	stanza_set_attr(x, "type", form_type_names[form->type]);
	if (form->title != NULL)
		stanza_add_text_child(x, "title", form->title);
	for (guint i = 0; i < form->instructions->len; i++)
		stanza_add_text_child(x, "instructions", g_ptr_array_index(form->instructions, i));
	for (const struct dataform_field *f = form->first; f != NULL; f = f->next)
		write_field(f, x);
	return x;
}

/* Reads an XEP-0122 <validate/> of F: only xs:integer on a text-single
 * field means something to ferry; a range bound that is absent is the
 * widest, one that is not a number makes the element ignored. */
static void read_validate(struct dataform_field *f, const struct stanza *v)
{
	if (f->type != DATAFORM_TEXT_SINGLE ||
	    g_strcmp0(stanza_get_attr(v, "datatype"), "xs:integer") != 0)
		return;
	gint64 min = G_MININT64, max = G_MAXINT64;
	const struct stanza *range = stanza_find_child(v, "range", NS_DATA_VALIDATE);
	const char *lo = range != NULL ? stanza_get_attr(range, "min") : NULL;
	const char *hi = range != NULL ? stanza_get_attr(range, "max") : NULL;
	if (lo != NULL && !g_ascii_string_to_signed(lo, 10, G_MININT64, G_MAXINT64, &min, NULL))
		return;
	if (hi != NULL && !g_ascii_string_to_signed(hi, 10, G_MININT64, G_MAXINT64, &max, NULL))
		return;
	if (min > max)
		return;
	f->integer = true;
	f->min = min;
	f->max = max;
}

/* Reads one <field/> into FORM. */
static bool read_field(struct dataform *form, const struct stanza *e, GError **error)
{
	const char *type_name = stanza_get_attr(e, "type");
	int type = DATAFORM_TEXT_SINGLE; /* XEP-0004 §3.3: the default */
	if (type_name != NULL) {
		type = name_index(field_type_names, G_N_ELEMENTS(field_type_names), type_name);
		if (type < 0) {
			g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
			            "'%s' is not a data form field type", type_name);
			return false;
		}
	}
	const char *var = stanza_get_attr(e, "var");
	if (var == NULL && type != DATAFORM_FIXED) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "a %s field has no var", field_type_names[type]);
		return false;
	}
	if (var != NULL && dataform_find_field(form, var) != NULL) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "the field '%s' appears twice", var);
		return false;
	}
	struct dataform_field *f = field_new(type, var, stanza_get_attr(e, "label"));
	append(form, f);
	for (const struct stanza *c = stanza_next_child(e, NULL); c != NULL;
	     c = stanza_next_child(e, c)) {
		if (stanza_is(c, "value", NS_DATA)) {
			/* As sent, several even in a single-value field: the
			 * check says what is wrong with them. */
			g_ptr_array_add(f->values, stanza_get_text(c));
		} else if (stanza_is(c, "desc", NS_DATA)) {
			g_free(f->desc);
			f->desc = stanza_get_text(c);
		} else if (stanza_is(c, "required", NS_DATA)) {
			f->required = true;
		} else if (stanza_is(c, "option", NS_DATA) && is_list(f->type)) {
			/* An option without a value offers nothing: skipped. */
			char *value = stanza_get_child_text(c, "value", NS_DATA);
			if (value != NULL) {
				dataform_field_add_option(f, stanza_get_attr(c, "label"), value);
				g_free(value);
			}
		} else if (stanza_is(c, "validate", NS_DATA_VALIDATE)) {
			read_validate(f, c);
		}
	}
	return true;
}

struct dataform *dataform_parse(const struct stanza *x, GError **error)
{
	g_return_val_if_fail(x != NULL, NULL);
	if (!stanza_is(x, "x", NS_DATA)) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "not a data form (an <x/> in %s)", NS_DATA);
		return NULL;
	}
	const char *type_name = stanza_get_attr(x, "type");
	if (type_name == NULL) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "the data form has no type");
		return NULL;
	}
	int type = name_index(form_type_names, G_N_ELEMENTS(form_type_names), type_name);
	if (type < 0) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "'%s' is not a data form type", type_name);
		return NULL;
	}
	struct dataform *form = dataform_new(type);
	for (const struct stanza *c = stanza_next_child(x, NULL); c != NULL;
	     c = stanza_next_child(x, c)) {
		if (stanza_is(c, "title", NS_DATA)) {
			g_free(form->title);
			form->title = stanza_get_text(c);
		} else if (stanza_is(c, "instructions", NS_DATA)) {
			g_ptr_array_add(form->instructions, stanza_get_text(c));
		} else if (stanza_is(c, "field", NS_DATA)) {
			if (!read_field(form, c, error)) {
				dataform_free(form);
				return NULL;
			}
		}
	}
	return form;
}

/* ---- checking a submission ---------------------------------------------- */

/* "'var' (label)", or "'var'" when the field has no label. Caller frees. */
static char *field_name(const struct dataform_field *f)
{
	return f->label != NULL ? g_strdup_printf("'%s' (%s)", f->var, f->label)
	                        : g_strdup_printf("'%s'", f->var);
}

static void set_invalid_value(GError **error, const struct dataform_field *f, const char *value)
{
	g_autofree char *name = field_name(f);
	g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_INVALID,
	            "'%s' is not a valid value for %s", value, name);
}

/* A line break or control character: Unicode Cc (C0, DEL, C1) and the
 * line and paragraph separators, which some clients and servers take as a
 * line end. A value holding one could end a legacy protocol's command
 * line early and start another (an IRC realname becoming a PRIVMSG). */
static bool breaks_line(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);
	return g_unichar_iscntrl(c) || t == G_UNICODE_LINE_SEPARATOR ||
	       t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static bool single_line(const char *value, bool tab_ok)
{
	for (const char *p = value; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (breaks_line(c) && !(tab_ok && c == '\t'))
			return false;
	}
	return true;
}

bool dataform_value_is_single_line(const char *value)
{
	return value != NULL && g_utf8_validate(value, -1, NULL) && single_line(value, false);
}

/* Checks the characters of VALUE for F; never echoes the value, which may
 * be a password. */
static bool check_characters(const struct dataform_field *f, const char *value, GError **error)
{
	const char *problem = NULL;
	bool tab_ok = f->type == DATAFORM_TEXT_MULTI;
	if (!g_utf8_validate(value, -1, NULL))
		problem = "must be valid UTF-8";
	else if (!single_line(value, tab_ok))
		problem = tab_ok ? "takes one line per value, without control "
		                   "characters other than TAB"
		                 : "must be a single line without control characters";
	if (problem == NULL)
		return true;
	g_autofree char *name = field_name(f);
	g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_INVALID, "%s %s", name, problem);
	return false;
}

/* VALUE (already trimmed) checked against F's type, normalized. NULL, with
 * ERROR set, when it does not fit. */
static char *normalize(const struct dataform_field *f, const char *value, GError **error)
{
	switch (f->type) {
	case DATAFORM_BOOLEAN:
		if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			return g_strdup("true");
		if (g_ascii_strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			return g_strdup("false");
		break;
	case DATAFORM_LIST_SINGLE:
	case DATAFORM_LIST_MULTI:
		for (guint i = 0; i < f->options->len; i++) {
			const struct option *o = g_ptr_array_index(f->options, i);
			if (strcmp(o->value, value) == 0)
				return g_strdup(value);
		}
		break;
	case DATAFORM_JID_SINGLE:
	case DATAFORM_JID_MULTI: {
		struct jid *jid = jid_parse(value, NULL);
		if (jid != NULL) {
			jid_free(jid);
			return g_strdup(value);
		}
		break;
	}
	case DATAFORM_TEXT_SINGLE:
		if (f->integer) {
			/* Digits with an optional sign only: no spaces, no 0x. */
			gint64 n;
			if (g_ascii_string_to_signed(value, 10, f->min, f->max, &n, NULL))
				return g_strdup_printf("%" G_GINT64_FORMAT, n);
			break;
		}
		return g_strdup(value);
	default:
		return g_strdup(value);
	}
	set_invalid_value(error, f, value);
	return NULL;
}

/* The values of S (the submitted field answering F), checked and
 * normalized, into OUT. Sets *ANSWERED unless they count as not submitted
 * (no value, or only empty ones, except an empty text-private value: an
 * empty password is a value) and *FILLED when one is not empty. */
static bool check_field(const struct dataform_field *f, const struct dataform_field *s,
                        GPtrArray *out, bool *answered, bool *filled, GError **error)
{
	const GPtrArray *in = s->values;
	bool secret = f->type == DATAFORM_TEXT_PRIVATE;
	if (in->len > 1 && single_valued(f->type)) {
		g_autofree char *name = field_name(f);
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_INVALID, "%s takes one value",
		            name);
		return false;
	}
	g_autoptr(GPtrArray) trimmed = g_ptr_array_new_with_free_func(wipe_free);
	*filled = false;
	for (guint i = 0; i < in->len; i++) {
		const char *v = g_ptr_array_index(in, i);
		if (!check_characters(f, v, error))
			return false;
		char *t = g_strdup(v);
		if (!secret)
			g_strstrip(t);
		*filled = *filled || *t != '\0';
		g_ptr_array_add(trimmed, t);
	}
	*answered = *filled || (secret && trimmed->len > 0);
	if (!*answered)
		return true;
	for (guint i = 0; i < trimmed->len; i++) {
		char *norm = normalize(f, g_ptr_array_index(trimmed, i), error);
		if (norm == NULL)
			return false;
		g_ptr_array_add(out, norm);
	}
	return true;
}

struct dataform *dataform_check(const struct dataform *form, const struct dataform *submission,
                                GError **error)
{
	g_return_val_if_fail(form != NULL && submission != NULL, NULL);
	struct dataform *result = dataform_new(DATAFORM_SUBMIT);
	for (const struct dataform_field *f = form->first; f != NULL; f = f->next) {
		if (f->type == DATAFORM_FIXED || f->var == NULL)
			continue;
		const struct dataform_field *s = dataform_find_field(submission, f->var);
		struct dataform_field *r = field_new(f->type, f->var, f->label);
		bool answered = false, filled = false;
		bool ok = s == NULL || check_field(f, s, r->values, &answered, &filled, error);
		if (ok && f->required && !filled) {
			g_autofree char *name = field_name(f);
			g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_REQUIRED,
			            "the field %s is required", name);
			ok = false;
		}
		if (!ok) {
			field_free(r);
			dataform_free(result);
			return NULL;
		}
		if (answered)
			append(result, r);
		else
			field_free(r);
	}
	return result;
}

/* ---- media (XEP-0221) ----------------------------------------------------- */

struct media {
	char *type; /* MIME type */
	char *uri;
};

static void media_free(gpointer data)
{
	struct media *m = data;
	g_free(m->type);
	g_free(m->uri);
	g_free(m);
}

void dataform_field_add_media(struct dataform_field *field, const char *type, const char *uri)
{
	g_return_if_fail(field != NULL && type != NULL && uri != NULL);
	if (field->media == NULL)
		field->media = g_ptr_array_new_with_free_func(media_free);
	struct media *m = g_new0(struct media, 1);
	m->type = g_strdup(type);
	m->uri = g_strdup(uri);
	g_ptr_array_add(field->media, m);
}

guint dataform_field_n_media(const struct dataform_field *field)
{
	g_return_val_if_fail(field != NULL, 0);
	return field->media != NULL ? field->media->len : 0;
}

const char *dataform_field_media_uri(const struct dataform_field *field, guint i, const char **type)
{
	g_return_val_if_fail(field != NULL && i < dataform_field_n_media(field), NULL);
	const struct media *m = g_ptr_array_index(field->media, i);
	if (type != NULL)
		*type = m->type;
	return m->uri;
}

/* One <media xmlns='urn:xmpp:media-element'><uri type=...>URI</uri></media>
 * per picture, inside the field E. */
static void write_media(const struct dataform_field *f, struct stanza *e)
{
	for (guint i = 0; i < dataform_field_n_media(f); i++) {
		const struct media *m = g_ptr_array_index(f->media, i);
		struct stanza *me = stanza_add_child(e, "media", NS_MEDIA_ELEMENT);
		struct stanza *u = stanza_add_text_child(me, "uri", m->uri);
		stanza_set_attr(u, "type", m->type);
	}
}
