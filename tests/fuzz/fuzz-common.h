/* fuzz-common.h: what the libFuzzer targets share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libFuzzer's entry points. Each target defines LLVMFuzzerTestOneInput();
 * LLVMFuzzerInitialize() only when it has more to do than
 * fuzz_setup_environment(), which fuzz-common.c's weak default does. */
int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

/* Inputs made of several pieces (server turns, SASL challenges) separate
 * them with this byte. */
#define FUZZ_SEPARATOR '\0'

/* The environment of the test suite (tests/meson.build) for what was not
 * set from outside: plugins from the build tree, no proxy resolver, no
 * GSettings. Call it first in LLVMFuzzerInitialize(). (G_SLICE=always-malloc,
 * which LeakSanitizer needs to see GLib's slices, must come from outside:
 * GLib reads it before main().) */
void fuzz_setup_environment (void);

/* FUZZ_VERBOSE=1 in the environment: targets say what happened, to read
 * a reproducer. Set by fuzz_initialized(), so that a warm-up in
 * LLVMFuzzerInitialize() stays quiet. */
extern gboolean fuzz_verbose;
void fuzz_initialized (void);

/* Splits @data at each FUZZ_SEPARATOR: (element-type GBytes), at least
 * one element (maybe empty). */
GPtrArray *fuzz_split (const guint8 *data,
                       gsize         size);

/* An input cut into pieces, to check that a streaming parser or encoder
 * gives the same outcome however its input is split. The first byte is a
 * header: its low three bits say how many cut offsets follow (two bytes
 * each, little-endian, modulo the payload's length); the other five bits
 * are @flags, for the target. The rest is the payload. */
typedef struct
{
  guint8 flags;
  const guint8 *payload;
  gsize length;
  gsize *cuts; /* sorted ends of the pieces; the last is @length */
  gsize n_cuts;
} FuzzPieces;

/* FALSE when @data is too short for its header. */
gboolean fuzz_pieces_init (FuzzPieces   *pieces,
                           const guint8 *data,
                           gsize         size);
void fuzz_pieces_clear (FuzzPieces *pieces);

/* A stand-in for a check that failed: the message, then abort() so that
 * libFuzzer records the input as a crash. */
G_NORETURN void fuzz_fail (const char *format,
                           ...) G_GNUC_PRINTF (1, 2);

#define fuzz_check(expr)                                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (G_UNLIKELY (!(expr)))                                                                      \
      fuzz_fail ("%s:%d: check failed: %s", __FILE__, __LINE__, #expr);                            \
  }                                                                                                \
  G_STMT_END

G_END_DECLS
