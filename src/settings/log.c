/* log: a GLib log writer with a level filter; the journal when stderr is
 * the journal, else one line per message on stderr. */
#include "config.h"
#include "ferry/log.h"

#include <stdio.h>
#include <unistd.h>

static enum settings_log_level max_level = SETTINGS_LOG_INFO;

static enum settings_log_level level_of(GLogLevelFlags flags)
{
	if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return SETTINGS_LOG_ERROR;
	if (flags & G_LOG_LEVEL_WARNING)
		return SETTINGS_LOG_WARNING;
	if (flags & G_LOG_LEVEL_MESSAGE)
		return SETTINGS_LOG_MESSAGE;
	if (flags & G_LOG_LEVEL_INFO)
		return SETTINGS_LOG_INFO;
	return SETTINGS_LOG_DEBUG;
}

static const char *level_name(enum settings_log_level level)
{
	static const char *const names[] = {"error", "warning", "message", "info", "debug"};
	return names[level];
}

static GLogWriterOutput writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
                               gpointer user_data)
{
	enum settings_log_level level = level_of(flags);
	if (level > max_level)
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)) &&
	    g_log_writer_journald(flags, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;

	const char *message = NULL;
	for (gsize i = 0; i < n_fields; i++)
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
	fprintf(stderr, "%s.%03d %s: %s\n", stamp, g_date_time_get_microsecond(now) / 1000,
	        level_name(level), message != NULL ? message : "(no message)");
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

void log_init(enum settings_log_level level)
{
	max_level = level;
	g_log_set_writer_func(writer, NULL, NULL);
}

void log_set_level(enum settings_log_level level)
{
	max_level = level;
}

bool log_enabled(enum settings_log_level level)
{
	return level <= max_level;
}
