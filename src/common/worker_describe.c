/* worker_describe: a protocol's registration needs as `ferry-worker
 * --describe` prints them and ferry reads them. See
 * include/ferry/worker_describe.h. */
#include "config.h"
#include "ferry/worker_describe.h"

#include <string.h>

static void split_free(gpointer data)
{
	struct worker_split *s = data;
	g_free(s->label);
	g_free(s->def);
	g_free(s->separator);
	g_free(s);
}

static void choice_free(gpointer data)
{
	struct worker_choice *c = data;
	g_free(c->label);
	g_free(c->value);
	g_free(c);
}

static void option_free(gpointer data)
{
	struct worker_option *o = data;
	g_free(o->key);
	g_free(o->label);
	g_free(o->def);
	g_ptr_array_unref(o->choices);
	g_free(o);
}

static char *dup0(const char *s)
{
	return g_strdup(s != NULL ? s : "");
}

struct worker_description *worker_description_new(const char *protocol, const char *name,
                                                  guint32 flags)
{
	struct worker_description *d = g_new0(struct worker_description, 1);
	d->protocol = dup0(protocol);
	d->name = dup0(name);
	d->flags = flags;
	d->splits = g_ptr_array_new_with_free_func(split_free);
	d->options = g_ptr_array_new_with_free_func(option_free);
	return d;
}

void worker_description_free(struct worker_description *d)
{
	if (d == NULL)
		return;
	g_free(d->protocol);
	g_free(d->name);
	g_ptr_array_unref(d->splits);
	g_ptr_array_unref(d->options);
	g_free(d);
}

void worker_description_add_split(struct worker_description *d, const char *label, const char *def,
                                  const char *separator)
{
	struct worker_split *s = g_new0(struct worker_split, 1);
	s->label = dup0(label);
	s->def = dup0(def);
	s->separator = dup0(separator);
	g_ptr_array_add(d->splits, s);
}

struct worker_option *worker_description_add_option(struct worker_description *d, const char *key,
                                                    enum worker_option_kind kind, const char *label,
                                                    const char *def)
{
	struct worker_option *o = g_new0(struct worker_option, 1);
	o->key = dup0(key);
	o->kind = kind;
	o->label = dup0(label);
	o->def = dup0(def);
	o->choices = g_ptr_array_new_with_free_func(choice_free);
	g_ptr_array_add(d->options, o);
	return o;
}

void worker_option_add_choice(struct worker_option *o, const char *label, const char *value)
{
	struct worker_choice *c = g_new0(struct worker_choice, 1);
	c->label = dup0(label);
	c->value = dup0(value);
	g_ptr_array_add(o->choices, c);
}

static const char *const kind_names[] = {
    [WORKER_OPTION_STRING] = "string",
    [WORKER_OPTION_BOOL] = "bool",
    [WORKER_OPTION_INT] = "int",
    [WORKER_OPTION_LIST] = "list",
};

char *worker_description_print(const struct worker_description *d)
{
	GVariantBuilder splits, options;
	g_variant_builder_init(&splits, G_VARIANT_TYPE("a(sss)"));
	for (guint i = 0; i < d->splits->len; i++) {
		const struct worker_split *s = g_ptr_array_index(d->splits, i);
		g_variant_builder_add(&splits, "(sss)", s->label, s->def, s->separator);
	}
	g_variant_builder_init(&options, G_VARIANT_TYPE("a(ssssa(ss))"));
	for (guint i = 0; i < d->options->len; i++) {
		const struct worker_option *o = g_ptr_array_index(d->options, i);
		GVariantBuilder choices;
		g_variant_builder_init(&choices, G_VARIANT_TYPE("a(ss)"));
		for (guint c = 0; c < o->choices->len; c++) {
			const struct worker_choice *ch = g_ptr_array_index(o->choices, c);
			g_variant_builder_add(&choices, "(ss)", ch->label, ch->value);
		}
		g_variant_builder_add(&options, "(ssssa(ss))", o->key, kind_names[o->kind],
		                      o->label, o->def, &choices);
	}
	g_autoptr(GVariant) v = g_variant_ref_sink(
	    g_variant_new(WORKER_DESCRIBE_TYPE, d->protocol, d->name, d->flags, &splits, &options));
	return g_variant_print(v, FALSE);
}

static enum worker_option_kind kind_of(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(kind_names); i++)
		if (strcmp(kind_names[i], name) == 0)
			return (enum worker_option_kind)i;
	return WORKER_OPTION_STRING;
}

struct worker_description *worker_description_parse(const char *text, GError **error)
{
	g_autoptr(GVariant) v =
	    g_variant_parse(G_VARIANT_TYPE(WORKER_DESCRIBE_TYPE), text, NULL, NULL, error);
	if (v == NULL)
		return NULL;
	const char *protocol, *name;
	guint32 flags;
	g_autoptr(GVariantIter) splits = NULL;
	g_autoptr(GVariantIter) options = NULL;
	g_variant_get(v, "(&s&sua(sss)a(ssssa(ss)))", &protocol, &name, &flags, &splits, &options);
	struct worker_description *d = worker_description_new(protocol, name, flags);
	const char *label, *def, *separator;
	while (g_variant_iter_next(splits, "(&s&s&s)", &label, &def, &separator))
		worker_description_add_split(d, label, def, separator);
	const char *key, *kind;
	GVariantIter *choices;
	while (
	    g_variant_iter_next(options, "(&s&s&s&sa(ss))", &key, &kind, &label, &def, &choices)) {
		struct worker_option *o =
		    worker_description_add_option(d, key, kind_of(kind), label, def);
		const char *cl, *cv;
		while (g_variant_iter_next(choices, "(&s&s)", &cl, &cv))
			worker_option_add_choice(o, cl, cv);
		g_variant_iter_free(choices);
	}
	return d;
}
