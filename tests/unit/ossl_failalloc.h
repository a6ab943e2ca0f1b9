/*
 * ossl_failalloc.h - for unit tests that make OpenSSL's allocations fail: every allocation of OpenSSL
 * goes through these once the test binary starts, and a test sets `budget` so that the budget+1-th
 * one fails (a local failure, as a caller's tiny resource limits would cause). Include it in one test
 * file per binary; hooks_installed says whether OpenSSL took the functions.
 */
#ifndef POSTERN_TEST_OSSL_FAILALLOC_H
#define POSTERN_TEST_OSSL_FAILALLOC_H

#include <openssl/crypto.h>
#include <stdlib.h>

static long budget = -1;	/* allocations left before failing; -1: never fail */

static void *t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (budget == 0)
		return NULL;
	if (budget > 0)
		budget--;
	return malloc(n);
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (budget == 0)
		return NULL;
	if (budget > 0)
		budget--;
	return realloc(p, n);
}

static void t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static int hooks_installed;

__attribute__((constructor)) static void install_hooks(void)
{
	hooks_installed = CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free);
}

#endif
