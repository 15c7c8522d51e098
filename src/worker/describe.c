/* describe: `ferry-worker --describe PROTOCOL_ID` prints what registration
 * needs to know about a protocol (include/ferry/worker_describe.h), so
 * that ferry can build its form without loading libpurple itself. */
#include "config.h"
#include "worker.h"

#include <stdio.h>
#include <string.h>

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

static void describe_splits(struct worker_description *d, PurplePluginProtocolInfo *info)
{
	for (GList *l = info->user_splits; l != NULL; l = l->next) {
		char sep[2] = {purple_account_user_split_get_separator(l->data), '\0'};
		worker_description_add_split(d, purple_account_user_split_get_text(l->data),
		                             purple_account_user_split_get_default_value(l->data),
		                             sep);
	}
}

static void describe_option(struct worker_description *d, PurpleAccountOption *option)
{
	const char *key = purple_account_option_get_setting(option);
	const char *label = purple_account_option_get_text(option);
	switch (purple_account_option_get_type(option)) {
	case PURPLE_PREF_BOOLEAN:
		worker_description_add_option(
		    d, key, WORKER_OPTION_BOOL, label,
		    purple_account_option_get_default_bool(option) ? "true" : "false");
		break;
	case PURPLE_PREF_INT: {
		g_autofree char *def =
		    g_strdup_printf("%d", purple_account_option_get_default_int(option));
		worker_description_add_option(d, key, WORKER_OPTION_INT, label, def);
		break;
	}
	case PURPLE_PREF_STRING:
		worker_description_add_option(d, key, WORKER_OPTION_STRING, label,
		                              purple_account_option_get_default_string(option));
		break;
	case PURPLE_PREF_STRING_LIST: {
		struct worker_option *o = worker_description_add_option(
		    d, key, WORKER_OPTION_LIST, label,
		    purple_account_option_get_default_list_value(option));
		for (GList *l = purple_account_option_get_list(option); l != NULL; l = l->next) {
			PurpleKeyValuePair *pair = l->data;
			worker_option_add_choice(o, pair->key, pair->value);
		}
		break;
	}
	default:
		break; /* no other kind can be set from text */
	}
}

/* Defaults ferry sets instead of libpurple's. prpl-irc's ssl is off, so a
 * user's password (server password, NickServ, SASL) would cross the
 * network in clear: ferry's form offers TLS, on the TLS port, unless the
 * admin presets ssl = false (and the port) for a server without it. */
static const struct {
	const char *protocol;
	const char *key;
	const char *def;
} own_defaults[] = {
    {"prpl-irc", "ssl", "true"},
    {"prpl-irc", "port", "6697"},
};

static void apply_own_defaults(struct worker_description *d)
{
	for (guint i = 0; i < d->options->len; i++) {
		struct worker_option *o = g_ptr_array_index(d->options, i);
		for (gsize j = 0; j < G_N_ELEMENTS(own_defaults); j++) {
			if (strcmp(own_defaults[j].protocol, d->protocol) == 0 &&
			    strcmp(own_defaults[j].key, o->key) == 0) {
				g_free(o->def);
				o->def = g_strdup(own_defaults[j].def);
			}
		}
	}
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
	struct worker_description *d = worker_description_new(protocol_id, prpl->info->name, flags);
	describe_splits(d, info);
	for (GList *l = info->protocol_options; l != NULL; l = l->next)
		describe_option(d, l->data);
	apply_own_defaults(d);
	g_autofree char *text = worker_description_print(d);
	worker_description_free(d);
	printf("%s\n", text);
	return fflush(stdout) == 0 ? 0 : 1;
}
