/* dataform_table: a data form's table (XEP-0004 §3.4): columns, written as
 * the fields of <reported/>, and rows, one <item/> each, holding a value
 * list per column. See include/ferry/dataform.h (the tables block).
 *
 * Every row keeps a cell per column, by column index (a column added
 * after rows exist gets an empty cell in each). Values are wiped when
 * freed, as a form's are.
 */
#include "config.h"
#include "dataform_table.h"

#include <openssl/crypto.h>
#include <string.h>

#include "ferry/ns.h"

struct column {
	enum dataform_field_type type;
	char *var;   /* never NULL, unique in the table */
	char *label; /* NULL when absent */
};

struct dataform_table {
	GPtrArray *columns; /* struct column *, in order */
	GPtrArray *rows;    /* GPtrArray * per row: a GPtrArray * of char * per column */
};

static void wipe_free(gpointer data)
{
	char *text = data;
	OPENSSL_cleanse(text, strlen(text));
	g_free(text);
}

static void column_free(gpointer data)
{
	struct column *c = data;
	g_free(c->var);
	g_free(c->label);
	g_free(c);
}

struct dataform_table *dataform_table_new(void)
{
	struct dataform_table *t = g_new0(struct dataform_table, 1);
	t->columns = g_ptr_array_new_with_free_func(column_free);
	t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	return t;
}

void dataform_table_free(struct dataform_table *table)
{
	if (table == NULL)
		return;
	g_ptr_array_unref(table->rows);
	g_ptr_array_unref(table->columns);
	g_free(table);
}

/* The index of column VAR, or -1. */
static int column_index(const struct dataform_table *t, const char *var)
{
	for (guint i = 0; i < t->columns->len; i++) {
		const struct column *c = g_ptr_array_index(t->columns, i);
		if (strcmp(c->var, var) == 0)
			return (int)i;
	}
	return -1;
}

static bool single_valued(enum dataform_field_type type)
{
	return type != DATAFORM_JID_MULTI && type != DATAFORM_LIST_MULTI &&
	       type != DATAFORM_TEXT_MULTI && type != DATAFORM_FIXED;
}

/* The cell of column COLUMN in ROW. */
static GPtrArray *cell(const GPtrArray *row, guint column)
{
	return g_ptr_array_index(row, column);
}

static void add_empty_cell(GPtrArray *row)
{
	g_ptr_array_add(row, g_ptr_array_new_with_free_func(wipe_free));
}

static void add_column(struct dataform_table *t, enum dataform_field_type type, const char *var,
                       const char *label)
{
	struct column *c = g_new0(struct column, 1);
	c->type = type;
	c->var = g_strdup(var);
	c->label = g_strdup(label);
	g_ptr_array_add(t->columns, c);
	for (guint r = 0; r < t->rows->len; r++)
		add_empty_cell(g_ptr_array_index(t->rows, r));
}

static guint add_row(struct dataform_table *t)
{
	GPtrArray *row = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	for (guint i = 0; i < t->columns->len; i++)
		add_empty_cell(row);
	g_ptr_array_add(t->rows, row);
	return t->rows->len - 1;
}

static void add_value(struct dataform_table *t, guint row, guint column, const char *value)
{
	const struct column *c = g_ptr_array_index(t->columns, column);
	GPtrArray *values = cell(g_ptr_array_index(t->rows, row), column);
	if (single_valued(c->type))
		g_ptr_array_set_size(values, 0);
	g_ptr_array_add(values, g_strdup(value));
}

/* ---- building ----------------------------------------------------------- */

void dataform_add_column(struct dataform *form, enum dataform_field_type type, const char *var,
                         const char *label)
{
	g_return_if_fail(form != NULL && var != NULL);
	g_return_if_fail(type >= DATAFORM_BOOLEAN && type <= DATAFORM_TEXT_SINGLE);
	struct dataform_table *t = dataform_table_make(form);
	g_return_if_fail(column_index(t, var) < 0);
	add_column(t, type, var, label);
}

guint dataform_add_row(struct dataform *form)
{
	g_return_val_if_fail(form != NULL, 0);
	return add_row(dataform_table_make(form));
}

void dataform_add_cell(struct dataform *form, guint row, const char *var, const char *value)
{
	g_return_if_fail(form != NULL && var != NULL && value != NULL);
	struct dataform_table *t = dataform_table_get(form);
	g_return_if_fail(t != NULL && row < t->rows->len);
	int column = column_index(t, var);
	g_return_if_fail(column >= 0);
	add_value(t, row, (guint)column, value);
}

/* ---- reading ------------------------------------------------------------ */

guint dataform_n_columns(const struct dataform *form)
{
	g_return_val_if_fail(form != NULL, 0);
	const struct dataform_table *t = dataform_table_get(form);
	return t != NULL ? t->columns->len : 0;
}

guint dataform_n_rows(const struct dataform *form)
{
	g_return_val_if_fail(form != NULL, 0);
	const struct dataform_table *t = dataform_table_get(form);
	return t != NULL ? t->rows->len : 0;
}

static const struct column *column_at(const struct dataform *form, guint i)
{
	const struct dataform_table *t = dataform_table_get(form);
	g_return_val_if_fail(t != NULL && i < t->columns->len, NULL);
	return g_ptr_array_index(t->columns, i);
}

enum dataform_field_type dataform_column_type(const struct dataform *form, guint i)
{
	g_return_val_if_fail(form != NULL, DATAFORM_TEXT_SINGLE);
	const struct column *c = column_at(form, i);
	return c != NULL ? c->type : DATAFORM_TEXT_SINGLE;
}

const char *dataform_column_var(const struct dataform *form, guint i)
{
	g_return_val_if_fail(form != NULL, NULL);
	const struct column *c = column_at(form, i);
	return c != NULL ? c->var : NULL;
}

const char *dataform_column_label(const struct dataform *form, guint i)
{
	g_return_val_if_fail(form != NULL, NULL);
	const struct column *c = column_at(form, i);
	return c != NULL ? c->label : NULL;
}

const GPtrArray *dataform_cell_values(const struct dataform *form, guint row, guint column)
{
	g_return_val_if_fail(form != NULL, NULL);
	const struct dataform_table *t = dataform_table_get(form);
	g_return_val_if_fail(t != NULL && row < t->rows->len && column < t->columns->len, NULL);
	return cell(g_ptr_array_index(t->rows, row), column);
}

const char *dataform_cell(const struct dataform *form, guint row, guint column)
{
	const GPtrArray *values = dataform_cell_values(form, row, column);
	return values != NULL && values->len > 0 ? g_ptr_array_index(values, 0) : NULL;
}

/* ---- XML ---------------------------------------------------------------- */

void dataform_table_write(const struct dataform_table *table, struct stanza *x)
{
	struct stanza *reported = stanza_add_child(x, "reported", NULL);
	for (guint i = 0; i < table->columns->len; i++) {
		const struct column *c = g_ptr_array_index(table->columns, i);
		struct stanza *f = stanza_add_child(reported, "field", NULL);
		stanza_set_attr(f, "type", dataform_field_type_name(c->type));
		stanza_set_attr(f, "var", c->var);
		stanza_set_attr(f, "label", c->label);
	}
	for (guint r = 0; r < table->rows->len; r++) {
		GPtrArray *row = g_ptr_array_index(table->rows, r);
		struct stanza *item = stanza_add_child(x, "item", NULL);
		/* XEP-0004 §3.4: every item has a field per reported one. */
		for (guint i = 0; i < table->columns->len; i++) {
			const struct column *c = g_ptr_array_index(table->columns, i);
			struct stanza *f = stanza_add_child(item, "field", NULL);
			stanza_set_attr(f, "var", c->var);
			const GPtrArray *values = cell(row, i);
			for (guint v = 0; v < values->len; v++)
				stanza_add_text_child(f, "value", g_ptr_array_index(values, v));
		}
	}
}

bool dataform_table_read_reported(struct dataform_table *table, const struct stanza *e,
                                  GError **error)
{
	if (table->columns->len > 0 || table->rows->len > 0) {
		g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
		            "a <reported/> after another or after an <item/>");
		return false;
	}
	for (const struct stanza *c = stanza_next_child(e, NULL); c != NULL;
	     c = stanza_next_child(e, c)) {
		if (!stanza_is(c, "field", NS_DATA))
			continue;
		const char *var = stanza_get_attr(c, "var");
		const char *type_name = stanza_get_attr(c, "type");
		int type = type_name != NULL ? dataform_field_type_from_name(type_name)
		                             : DATAFORM_TEXT_SINGLE;
		if (var == NULL || type < 0 || column_index(table, var) >= 0) {
			g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
			            "a reported field without a var, of an unknown type or twice");
			return false;
		}
		add_column(table, type, var, stanza_get_attr(c, "label"));
	}
	return true;
}

bool dataform_table_read_item(struct dataform_table *table, const struct stanza *e, GError **error)
{
	guint row = add_row(table);
	for (const struct stanza *c = stanza_next_child(e, NULL); c != NULL;
	     c = stanza_next_child(e, c)) {
		if (!stanza_is(c, "field", NS_DATA))
			continue;
		const char *var = stanza_get_attr(c, "var");
		int column = var != NULL ? column_index(table, var) : -1;
		if (column < 0) {
			g_set_error(error, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED,
			            "an item field '%s' that is not reported",
			            var != NULL ? var : "");
			return false;
		}
		for (const struct stanza *v = stanza_next_child(c, NULL); v != NULL;
		     v = stanza_next_child(c, v)) {
			if (!stanza_is(v, "value", NS_DATA))
				continue;
			char *text = stanza_get_text(v);
			add_value(table, row, (guint)column, text);
			wipe_free(text);
		}
	}
	return true;
}
