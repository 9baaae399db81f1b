/*
 * accel: accelerator names and their aliases. See accel.h.
 */
#include "catalog/accel.h"

#include <ctype.h>
#include <string.h>

#define ACCEL_NAME_MAX 64
#define ALIAS_MAX 4

/* Typed name (normalised) -> the catalog names (normalised) it also means. */
static const struct {
	const char *typed;
	const char *names[ALIAS_MAX];
} aliases[] = {
	{ "A10040GB", { "A100" } },
	{ "A10080GB", { "A10080GB", "A10080GBSXM" } },
	{ "H100", { "H100", "H100SXM", "H100MEGA" } },
	{ "H10080GB", { "H100", "H100SXM", "H100MEGA" } },
	{ "H200", { "H200", "H200SXM" } },
	{ "H200NVL", { "NVIDIAH200NVL" } },
	{ "A6000", { "A6000", "RTXA6000" } },
	{ "RTXA6000", { "A6000", "RTXA6000" } },
	{ "6000ADA", { "RTX6000ADA" } },
	{ "4090", { "RTX4090" } },
	{ "GEFORCERTX4090", { "RTX4090" } },
	{ "3090", { "RTX3090" } },
	{ "GEFORCERTX3090", { "RTX3090" } },
	{ "5090", { "RTX5090" } },
	{ "GEFORCERTX5090", { "RTX5090" } },
	{ "V10016GB", { "V100" } },
	{ "TESLAT4", { "T4" } },
	{ "TESLAV100", { "V100" } },
	{ "MI300", { "MI300X" } },
};

const char *const accel_alias_doc[][2] = {
	{ "A100, A100-40GB", "A100 (40 GB)" },
	{ "A100-80GB", "A100-80GB, A100-80GB-SXM" },
	{ "H100, H100-80GB", "H100, H100-SXM, H100-MEGA" },
	{ "H200", "H200, H200-SXM" },
	{ "H200-NVL", "NVIDIA-H200-NVL" },
	{ "A6000, RTXA6000", "A6000 (Lambda), RTXA6000 (Runpod)" },
	{ "6000-Ada", "RTX6000-Ada" },
	{ "4090, 3090, 5090", "RTX4090, RTX3090, RTX5090" },
	{ "V100-16GB, Tesla-V100", "V100" },
	{ "Tesla-T4", "T4" },
	{ "MI300", "MI300X" },
	{ NULL, NULL },
};

void accel_normalize(const char *name, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	for (; name && *name && n + 1 < len; name++)
		if (isalnum((unsigned char)*name))
			buf[n++] = (char)toupper((unsigned char)*name);
	buf[n] = '\0';
}

int accel_matches(const char *typed, const char *cat_name)
{
	char t[ACCEL_NAME_MAX], c[ACCEL_NAME_MAX];
	size_t i, j;

	accel_normalize(typed, t, sizeof(t));
	accel_normalize(cat_name, c, sizeof(c));
	if (!t[0] || !c[0])
		return 0;
	if (!strcmp(t, c))
		return 1;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcmp(aliases[i].typed, t))
			continue;
		for (j = 0; j < ALIAS_MAX && aliases[i].names[j]; j++)
			if (!strcmp(aliases[i].names[j], c))
				return 1;
	}
	return 0;
}
