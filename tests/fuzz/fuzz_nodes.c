/*
 * libFuzzer harness: the node list parser.  The input is split at NUL
 * bytes into arguments, as a command line would give them.  What parses
 * must be what a strict reading of plain decimal gives.  The first
 * argument is also read as a list (1,3-5,node7): every node it names
 * must come from one of its elements read strictly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssi_error.h"
#include "ssi_nodes.h"

/* The limit of the CIDEV ssiuml builds, as the tools would pass it. */
#define FUZZ_MAX 15

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: digits only, no leading zero, 1..max. */
static int strict(const char *s, unsigned max)
{
	unsigned long v = 0;

	if (*s == '\0' || (*s == '0' && s[1] != '\0') || strlen(s) > 3)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= max ? (int)v : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = g_malloc(size + 1);
	GPtrArray *args = g_ptr_array_new();
	GError *error = NULL;
	SsiNodeSet set;
	size_t start = 0;
	gboolean ok, want = TRUE;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size; i++)
		if (copy[i] == '\0') {
			g_ptr_array_add(args, copy + start);
			start = i + 1;
		}
	for (guint i = 0; i < args->len; i++)
		want = want && strict(g_ptr_array_index(args, i), FUZZ_MAX);
	ok = ssi_nodeset_parse((int)args->len, (char *const *)args->pdata,
			       FUZZ_MAX, &set, &error);
	if (ok != want)
		__builtin_trap();
	if (ok) {
		for (guint i = 0; i < args->len; i++)
			if (!ssi_nodeset_has(&set, (guint)strict(g_ptr_array_index(args, i),
								 FUZZ_MAX)))
				__builtin_trap();
		g_free(ssi_nodeset_format(&set));
	} else {
		g_error_free(error);
		error = NULL;
	}
	if (ssi_nodeset_parse_list(copy, FUZZ_MAX, &set, &error)) {
		/* Each node listed is a number, a name or inside a range of
		 * strict numbers of the list. */
		gchar **parts = g_strsplit(copy, ",", -1);
		SsiNodeSet named;

		ssi_nodeset_clear(&named);
		for (guint i = 0; parts[i] != NULL; i++) {
			const char *p = strncmp(parts[i], "node", 4) == 0 ? parts[i] + 4 : parts[i];
			char *dash = strchr(p, '-');
			int from, to;

			if (dash == NULL) {
				from = to = strict(p, FUZZ_MAX);
			} else {
				*dash = '\0';
				from = strict(p, FUZZ_MAX);
				to = strict(dash + 1, FUZZ_MAX);
			}
			if (from == 0 || to < from)
				__builtin_trap();
			for (int n = from; n <= to; n++)
				ssi_nodeset_add(&named, (guint)n);
		}
		for (guint n = 1; n <= SSI_NODE_LIMIT; n++)
			if (ssi_nodeset_has(&set, n) != ssi_nodeset_has(&named, n))
				__builtin_trap();
		g_strfreev(parts);
	} else {
		g_error_free(error);
	}
	g_ptr_array_free(args, TRUE);
	g_free(copy);
	return 0;
}
