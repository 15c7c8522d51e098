/* fdwatch: see include/ferry/fdwatch.h. */
#include "config.h"
#include "ferry/fdwatch.h"

guint fdwatch_add(int fd, GIOCondition cond, GUnixFDSourceFunc function, gpointer data)
{
	GSource *source = g_unix_fd_source_new(fd, cond);
	g_source_set_callback(source, (GSourceFunc)(void (*)(void))function, data, NULL);
	g_source_set_can_recurse(source, TRUE);
	guint id = g_source_attach(source, NULL);
	g_source_unref(source);
	return id;
}
