/*
 * banned: libc calls that overflow buffers or are not thread/reentrant
 * safe turn into compile errors (git's banned.h). Forced into every .c
 * file by the compiler's -include flag, so before the file's own
 * includes: the headers that declare these functions come first here, so
 * that their declarations are not rewritten by the macros below (with
 * musl, whose declarations lack "extern", they would become variable
 * definitions); a later call then names an undeclared identifier. As
 * these are the first system headers of every file, the GNU extensions
 * frugal uses (pipe2, memfd_create, timegm, ...) are asked for here too.
 */
#ifndef FRUGAL_BASE_BANNED_H
#define FRUGAL_BASE_BANNED_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#endif
