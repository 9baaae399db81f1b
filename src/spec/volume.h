/*
 * volume: the task's data volumes, `volumes:` (docs/DATA.md, "volumes").
 *
 *   volumes:
 *     /data: ebs://snap-0123456789abcdef0   a backend's kind of volume, SCHEME://REF
 *     data: ./dataset                       a directory on the launching machine
 *     /mnt/pvc: my-claim                    SkyPilot's form: a named volume
 *     /ro: {source: SOURCE, read_only: true, size: 200, type: gp3}
 *
 * The mount path follows file_mounts' rules (mount.h): absolute, or
 * relative to the job's work directory. A volume is data that stays
 * where it is (a disk, a claim, a network volume): it is attached or
 * mounted, never copied. Which kinds exist, and which backend gives
 * which, the backends say (backend.h volume_kinds); the spec sits below
 * them and asks through the hook volume_kind_at, defined in
 * src/backend/registry.c. A backend that cannot give a volume's kind
 * refuses the task when it is planned (provider_check_task).
 */
#ifndef FRUGAL_SPEC_VOLUME_H
#define FRUGAL_SPEC_VOLUME_H

#include <stddef.h>

struct schema;
struct ynode;

/* The two kinds every backend may take without a scheme of its own. */
#define VOLUME_KIND_DIR "dir"	/* a directory of the launching machine */
#define VOLUME_KIND_NAME "name"	/* a named volume (SkyPilot's `sky volumes` name) */

/* One kind a backend gives: its scheme ("ebs") and what it is, for
 * humans ("an EBS snapshot (ebs://snap-ID), made into a volume per machine"). */
struct volume_kind {
	const char *kind;
	const char *what;
	/* 1: frugal makes a volume per attempt from the source (and holds,
	 * bills and ends it: a ledger row); 0: the volume is the user's and
	 * is only attached or mounted. */
	int made;
	/* 1: the ref may be PLACE/ID (one '/' inside: a zone's disk, SCHEME://ZONE/NAME);
	 * 0: no '/' at all. */
	int scoped;
};

struct volume {
	char *dst;		/* the mount path as written ("/data", "data") */
	char *kind;		/* a scheme ("ebs"), VOLUME_KIND_DIR or VOLUME_KIND_NAME */
	char *ref;		/* after "SCHEME://"; dir: the absolute local path; name: it */
	int read_only;
	int size_gb;		/* GiB; 0: the source's own size */
	char *type;		/* the volume type ("gp3"); NULL: the backend's default */
};

struct volume_list {
	struct volume *items;
	size_t n, alloc;
};
#define VOLUME_LIST_INIT { NULL, 0, 0 }

/* Append a copy of v's strings (type may be NULL). */
void volume_list_append(struct volume_list *l, const struct volume *v);
void volume_list_release(struct volume_list *l);
/* The first volume of kind, or NULL. */
const struct volume *volume_list_find_kind(const struct volume_list *l, const char *kind);

/* The volume's source as a user writes it, into buf: "ebs://snap-1",
 * "/abs/dir", "my-claim". */
const char *volume_source_text(const struct volume *v, char *buf, size_t size);

/* Hook (src/backend/registry.c): the i-th kind some backend gives, each
 * kind once, NULL past the last. */
const struct volume_kind *volume_kind_at(size_t i);

/* The volumes node v (path "volumes") into l; every problem is a
 * diagnostic in sc. base_dir resolves directories (NULL: the current
 * directory). */
void volume_parse(struct schema *sc, const struct ynode *v, const char *path,
		  const char *base_dir, struct volume_list *l);

#endif
