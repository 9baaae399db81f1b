/*
 * replay: runs a libFuzzer target over every file of a corpus directory
 * without libFuzzer, so `make check` replays the corpus with any compiler
 * (and under ASan/UBSan in the sanitizer build).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/fs.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *e;
	int count = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "cannot open corpus '%s'\n", argv[1]);
		return 1;
	}
	while ((e = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		char *path;

		if (e->d_name[0] == '.')
			continue;
		path = fs_path_join(argv[1], e->d_name);
		if (fs_read_file(path, 0, &sb, NULL) == 0) {
			LLVMFuzzerTestOneInput((const uint8_t *)sb.buf, sb.len);
			count++;
		}
		strbuf_release(&sb);
		free(path);
	}
	closedir(d);
	printf("replayed %d corpus inputs from %s\n", count, argv[1]);
	return count > 0 ? 0 : 1;
}
