/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

int
xchoice(const char *opt, const char *arg, const char *const choices[])
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; choices[i]; i++)
		if (strcmp(arg, choices[i]) == 0)
			return i;
	for (i = 0; choices[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", choices[i]);
	die(OAI_EX_USAGE, "%s: '%s' is not one of %s", opt, arg, b.s);
}
