/* bench_markup: the time markup_to_text takes on hostile and ordinary
 * input, to show it is linear (issue 10 item 9).
 *
 * Before the fix every '<' searched the rest of the text for a '>' and
 * every '&' for a ';', so 1 MB of either took seconds on the main loop
 * (9.8 s in the audit; 13.6 and 18.6 s on the loaded 2-core test machine).
 * Each case is converted without the MARKUP_MAX_BYTES bound that
 * markup_to_text applies, at 1 MB and 4 MB: linear time means the second
 * figure is about four times the first.
 *
 *   bench_markup [--repeat N]
 */
#include "config.h"
#include "ferry/markup.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fill(size_t n, const char *unit)
{
	GString *s = g_string_sized_new(n + 16);
	size_t u = strlen(unit);
	while (s->len + u <= n)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

int main(int argc, char **argv)
{
	int repeat = 3;
	if (argc == 3 && strcmp(argv[1], "--repeat") == 0)
		repeat = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
	static const char *const units[] = {"<", "&", "<b", "&#x1b;",
	                                    "hi <b>bold</b> &amp; more<br>"};
	static const size_t sizes[] = {1000 * 1000, 4 * 1000 * 1000};
	printf("%-34s %10s %12s\n", "input", "bytes", "best ms");
	for (gsize u = 0; u < G_N_ELEMENTS(units); u++) {
		for (gsize k = 0; k < G_N_ELEMENTS(sizes); k++) {
			char *in = fill(sizes[k], units[u]);
			double best = -1;
			for (int r = 0; r < repeat; r++) {
				gint64 t0 = g_get_monotonic_time();
				char *out = markup_to_text_max(in, 0);
				double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
				g_free(out);
				if (best < 0 || ms < best)
					best = ms;
			}
			g_autofree char *label = g_strdup_printf("'%s' repeated", units[u]);
			printf("%-34s %10zu %12.2f\n", label, strlen(in), best);
			g_free(in);
		}
	}
	return 0;
}
