/* dataform_table: the table part of a data form (XEP-0004 §3.4), inside
 * src/xmpp/ only: dataform.c keeps one per form that has columns, writes
 * it after the fields and hands <reported/> and <item/> to it when
 * parsing. The public API is in include/ferry/dataform.h. */
#ifndef FERRY_XMPP_DATAFORM_TABLE_H
#define FERRY_XMPP_DATAFORM_TABLE_H

#include <stdbool.h>

#include "ferry/dataform.h"

struct dataform_table;

/* dataform.c: the form's table (NULL: none yet), and the table made on
 * first use. The form owns it. */
struct dataform_table *dataform_table_get(const struct dataform *form);
struct dataform_table *dataform_table_make(struct dataform *form);

struct dataform_table *dataform_table_new(void);
void dataform_table_free(struct dataform_table *table);
/* Appends <reported/> and the <item/>s to X. */
void dataform_table_write(const struct dataform_table *table, struct stanza *x);
/* Reads a <reported/> (once, before any <item/>) or an <item/> (only
 * fields of the reported columns). false with DATAFORM_ERROR_MALFORMED. */
bool dataform_table_read_reported(struct dataform_table *table, const struct stanza *e,
                                  GError **error);
bool dataform_table_read_item(struct dataform_table *table, const struct stanza *e, GError **error);

/* dataform.c: XEP-0004's names of field types, and back (-1: unknown). */
const char *dataform_field_type_name(enum dataform_field_type type);
int dataform_field_type_from_name(const char *name);

#endif
