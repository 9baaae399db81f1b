/*
 * home: the paths under $FRUGAL_HOME (default ~/.frugal, mode 0700) where
 * frugal keeps its state: the database, config.yaml, the secret key, the
 * controller's socket, lock, pid and log, local instances and the default
 * file:// storage.
 */
#ifndef FRUGAL_STORE_HOME_H
#define FRUGAL_STORE_HOME_H

#include "base/error.h"

struct home {
	char *dir;
	char *db;		/* state.db */
	char *config;		/* config.yaml */
	char *key;		/* secret.key */
	char *socket;		/* controller.sock */
	char *lock;		/* controller.lock */
	char *pidfile;		/* controller.pid */
	char *controller_log;	/* controller.log */
	char *instances;	/* instances/ */
	char *storage_url;	/* file://DIR/storage (the default storage) */
};
#define HOME_INIT { 0 }

/* Resolve $FRUGAL_HOME (or ~/.frugal), create it 0700 and fill h. */
int home_open(struct home *h, struct error *err);
void home_release(struct home *h);

#endif
