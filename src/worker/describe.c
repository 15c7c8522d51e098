/* describe: `ferry-worker --describe PROTOCOL_ID` prints what registration
 * needs to know about a protocol (WORKER_DESCRIBE_TYPE in
 * worker_protocol.h), so that ferry can build its form without loading
 * libpurple itself. */
#include "config.h"
#include "worker.h"

#include <stdio.h>

static gint compare_ids(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

static void list_protocols(FILE *out)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	for (GList *l = purple_plugins_get_protocols(); l != NULL; l = l->next) {
		PurplePlugin *plugin = l->data;
		if (plugin->info != NULL && plugin->info->id != NULL)
			g_ptr_array_add(ids, plugin->info->id);
	}
	g_ptr_array_sort(ids, compare_ids);
	for (guint i = 0; i < ids->len; i++)
		fprintf(out, "  %s\n", (const char *)g_ptr_array_index(ids, i));
}

static GVariant *describe_splits(PurplePluginProtocolInfo *info)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sss)"));
	for (GList *l = info->user_splits; l != NULL; l = l->next) {
		const char *label = purple_account_user_split_get_text(l->data);
		const char *def = purple_account_user_split_get_default_value(l->data);
		char sep[2] = {purple_account_user_split_get_separator(l->data), '\0'};
		g_variant_builder_add(&b, "(sss)", label != NULL ? label : "",
		                      def != NULL ? def : "", sep);
	}
	return g_variant_builder_end(&b);
}

static GVariant *describe_option(PurpleAccountOption *option)
{
	const char *kind;
	g_autofree char *def = NULL;
	GVariantBuilder choices;
	g_variant_builder_init(&choices, G_VARIANT_TYPE("a(ss)"));
	switch (purple_account_option_get_type(option)) {
	case PURPLE_PREF_BOOLEAN:
		kind = "bool";
		def = g_strdup(purple_account_option_get_default_bool(option) ? "true" : "false");
		break;
	case PURPLE_PREF_INT:
		kind = "int";
		def = g_strdup_printf("%d", purple_account_option_get_default_int(option));
		break;
	case PURPLE_PREF_STRING:
		kind = "string";
		def = g_strdup(purple_account_option_get_default_string(option));
		break;
	case PURPLE_PREF_STRING_LIST:
		kind = "list";
		def = g_strdup(purple_account_option_get_default_list_value(option));
		for (GList *l = purple_account_option_get_list(option); l != NULL; l = l->next) {
			PurpleKeyValuePair *pair = l->data;
			g_variant_builder_add(&choices, "(ss)", pair->key != NULL ? pair->key : "",
			                      pair->value != NULL ? (const char *)pair->value : "");
		}
		break;
	default:
		g_variant_builder_clear(&choices);
		return NULL;
	}
	const char *label = purple_account_option_get_text(option);
	return g_variant_new("(ssss@a(ss))", purple_account_option_get_setting(option), kind,
	                     label != NULL ? label : "", def != NULL ? def : "",
	                     g_variant_builder_end(&choices));
}

static GVariant *describe_options(PurplePluginProtocolInfo *info)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssssa(ss))"));
	for (GList *l = info->protocol_options; l != NULL; l = l->next) {
		GVariant *option = describe_option(l->data);
		if (option != NULL)
			g_variant_builder_add_value(&b, option);
	}
	return g_variant_builder_end(&b);
}

int describe_protocol(const char *protocol_id)
{
	PurplePlugin *prpl = purple_find_prpl(protocol_id);
	if (prpl == NULL) {
		fprintf(stderr, "ferry-worker: unknown protocol '%s'; available:\n", protocol_id);
		list_protocols(stderr);
		return 2;
	}
	PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO(prpl);
	guint32 flags = 0;
	if (info->options & OPT_PROTO_PASSWORD_OPTIONAL)
		flags |= WORKER_DESCRIBE_PASSWORD_OPTIONAL;
	if (info->options & OPT_PROTO_NO_PASSWORD)
		flags |= WORKER_DESCRIBE_NO_PASSWORD;
	const char *name = prpl->info->name;
	g_autoptr(GVariant) description = g_variant_ref_sink(
	    g_variant_new("(ssu@a(sss)@a(ssssa(ss)))", protocol_id, name != NULL ? name : "", flags,
	                  describe_splits(info), describe_options(info)));
	g_assert(g_variant_is_of_type(description, G_VARIANT_TYPE(WORKER_DESCRIBE_TYPE)));
	g_autofree char *text = g_variant_print(description, FALSE);
	printf("%s\n", text);
	return fflush(stdout) == 0 ? 0 : 1;
}
