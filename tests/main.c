/* One runner for every suite; CK_RUN_SUITE / CK_RUN_CASE select. */
#include <stdlib.h>

#include "testlib.h"

int main(void)
{
	SRunner *sr = srunner_create(nodes_suite());
	/* Every test's files, and so every process it starts (they inherit
	 * its HOME), are under one root: a test killed by its timeout skips
	 * its own teardown, and this run ends what it left. */
	g_autofree char *root = g_dir_make_tmp("ssiuml-check-XXXXXX", NULL);
	int failed;

	if (root == NULL)
		return EXIT_FAILURE;
	g_setenv("SSIUML_TEST_ROOT", root, TRUE);
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, proc_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, cluster_suite());
	srunner_add_suite(sr, tools_suite());
	srunner_add_suite(sr, safety_suite());
	srunner_add_suite(sr, member_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	t_sweep(root);
	{
		const char *argv[] = { "rm", "-rf", root, NULL };

		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			     NULL, NULL, NULL, NULL);
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
