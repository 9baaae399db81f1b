/*
 * bench_s3: throughput of the s3:// storage driver.
 *
 *   bench_s3 s3://BUCKET/PREFIX FILE
 *
 * stores FILE (put_file: multipart above 64 MiB, parts in parallel), then
 * reads it back (get_file), and prints one line per direction:
 *   put 200 MiB in 3.41 s: 58.7 MiB/s
 * Credentials and endpoint as for frugal (AWS_ENDPOINT_URL, ...).
 * tests/peers/aws/s3-throughput compares it with `aws s3 cp` and rclone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "storage/storage.h"

int main(int argc, char **argv)
{
	struct storage *s = NULL;
	struct error err = ERROR_INIT;
	struct stat st;
	char *back;
	double mib, secs;
	int64_t t0;

	if (argc != 3 || stat(argv[2], &st) < 0) {
		fprintf(stderr, "usage: bench_s3 s3://BUCKET/PREFIX FILE\n");
		return 2;
	}
	mib = (double)st.st_size / (1 << 20);
	if (storage_open(argv[1], &s, &err) < 0) {
		fprintf(stderr, "bench_s3: %s\n", error_msg(&err));
		return 1;
	}
	storage_del(s, "bench.bin", NULL);
	t0 = time_mono_ms();
	if (storage_put_file(s, "bench.bin", argv[2], 0, &err) < 0) {
		fprintf(stderr, "bench_s3: put: %s\n", error_msg(&err));
		return 1;
	}
	secs = (double)(time_mono_ms() - t0) / 1000.0;
	printf("put %.0f MiB in %.2f s: %.1f MiB/s\n", mib, secs, mib / secs);
	back = xasprintf("%s.back", argv[2]);
	t0 = time_mono_ms();
	if (storage_get_file(s, "bench.bin", back, &err) < 0) {
		fprintf(stderr, "bench_s3: get: %s\n", error_msg(&err));
		return 1;
	}
	secs = (double)(time_mono_ms() - t0) / 1000.0;
	printf("get %.0f MiB in %.2f s: %.1f MiB/s\n", mib, secs, mib / secs);
	unlink(back);
	free(back);
	storage_free(s);
	return 0;
}
