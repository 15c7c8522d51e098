/* log: ferry's logging, through GLib's structured log writer.
 *
 * Messages go to the systemd journal when stderr is connected to it, else to
 * stderr as one line each: time, level, message. Only messages at or above
 * the configured level are written. Module code logs with g_debug(),
 * g_info(), g_message(), g_warning() (never g_error(), which aborts), and
 * never logs a secret.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include "ferry/settings.h"

/* Installs the writer; LEVEL is the most verbose level written. */
void log_init(enum settings_log_level level);

/* Changes the level after log_init(). */
void log_set_level(enum settings_log_level level);

/* Whether messages at LEVEL are written: lets a per-message log line skip
 * formatting its arguments when it would be dropped anyway. */
bool log_enabled(enum settings_log_level level);

#endif
