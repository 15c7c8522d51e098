/* log: the logging of ferry and ferry-worker, through GLib's structured log
 * writer.
 *
 * Messages go to the systemd journal when stderr is connected to it, else to
 * stderr as one line each, the same for both programs:
 *   2026-12-01 23:27:11.042 ferry[4242] warning: component: link down ...
 * (local time with milliseconds, program[pid], level, message; embedded
 * newlines and control characters escaped as \n, \r, \xNN, \uNNNN — see
 * log_escape() — so an entry is always one line and a terminal never acts
 * on what a legacy name carried). Only messages at or above the configured level are
 * written. Module code logs with g_debug(), g_info(), g_message(),
 * g_warning() (never g_error(), which aborts), and never logs a secret;
 * ferry's own error level (a fatal start error) is log_error(): "error" on
 * stderr, journal priority 3.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include "ferry/settings.h"

/* Installs the writer for PROGRAM (static; named in every line); LEVEL is
 * the most verbose level written. May be called again to change both. */
void log_init(const char *program, enum settings_log_level level);

/* Changes the level after log_init(). */
void log_set_level(enum settings_log_level level);

/* Whether messages at LEVEL are written: lets a per-message log line skip
 * formatting its arguments when it would be dropped anyway. */
bool log_enabled(enum settings_log_level level);

/* "error" ... "debug" (any case) -> the level; false for anything else. */
bool log_level_parse(const char *name, enum settings_log_level *level);
const char *log_level_name(enum settings_log_level level);

/* Logs at ferry's error level (G_LOG_LEVEL_CRITICAL, which never aborts
 * here; journal priority 3). For what stops ferry. */
void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* TEXT (LEN bytes, or up to its NUL when LEN < 0; NULL: "") escaped as
 * every logged value is, on stderr and for the journal: \n, \r, \xNN for
 * other C0 controls, DEL and bytes that are not UTF-8, \uNNNN for C1 and
 * bidi controls; TAB and other text as they are. Caller frees. */
char *log_escape(const char *text, gssize len);

/* The stderr line for one entry (with its newline), for the writer and
 * tests. Caller frees. */
char *log_format_line(const char *program, int pid, GDateTime *when, enum settings_log_level level,
                      const char *message);

/* The fields sent to the journal for an entry at LEVEL: FIELDS without
 * their PRIORITY, then ferry's (error 3, warning 4, message 5, info 6,
 * debug 7) and SYSLOG_IDENTIFIER = PROGRAM unless given. OUT has room for
 * N_FIELDS + 2; returns how many it holds (borrowing FIELDS' strings). */
gsize log_journal_fields(enum settings_log_level level, const char *program,
                         const GLogField *fields, gsize n_fields, GLogField *out);

#endif
