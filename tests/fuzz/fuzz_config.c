/*
 * libFuzzer harness: the configuration parser, on any bytes.  It must
 * accept or refuse with a "file:line: ..." message, never crash, leak or
 * read out of bounds, and what it accepts must hold only sane values.
 */
#include <stdint.h>
#include <string.h>

#include "ssi_config.h"
#include "ssi_error.h"
#include "ssi_nodes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SsiConfig *cfg = ssi_config_new();
	GError *error = NULL;

	if (ssi_config_parse(cfg, (const char *)data, size, "fuzz.conf", "/base", &error)) {
		/* Required values stay set; the limits hold. */
		if (cfg->kernel == NULL || cfg->root == NULL || cfg->cidev == NULL ||
		    cfg->max_nodes > SSI_NODE_LIMIT ||
		    cfg->boot_timeout < 1 || cfg->stop_timeout < 1)
			__builtin_trap();
	} else {
		if (error == NULL || strncmp(error->message, "fuzz.conf:", 10) != 0)
			__builtin_trap();
		g_error_free(error);
	}
	ssi_config_free(cfg);
	return 0;
}
