/* fdwatch: g_unix_fd_add() without GLib's per-dispatch wake-up.
 *
 * GLib (2.74) blocks a source while dispatching it: it takes the source's
 * descriptors out of the poll set and puts them back afterwards, and each
 * change writes the main context's wake-up eventfd, so every dispatch of an
 * fd watch costs two more system calls and one more main loop iteration.
 * A source that may recurse is not blocked. ferry never runs a nested main
 * loop, so its watches can recurse safely. */
#ifndef FERRY_FDWATCH_H
#define FERRY_FDWATCH_H

#include <glib-unix.h>

/* As g_unix_fd_add(): watches FD for COND on the default main context and
 * returns the source id (remove with g_source_remove()). */
guint fdwatch_add(int fd, GIOCondition cond, GUnixFDSourceFunc function, gpointer data);

#endif
