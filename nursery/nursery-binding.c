/* nursery-binding.c: what Nursery can tell of a language binding
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* GJS refuses to run JavaScript on any thread but its own: a JS function
 * handed to nursery_group_spawn_in_thread() would log a critical on the
 * worker and return without running, and the child would "succeed" (R2).
 * C cannot see that happen, but it can see it coming: the function a
 * binding hands over is a closure made at run time, in no loaded object
 * (dladdr() finds nothing), and the caller is JavaScript when GJS has a
 * context on this thread. A Python closure looks the same, so a process
 * that also runs Python is given the benefit of the doubt. Vala, C and
 * C++ callbacks are code of a loaded object and never match. */

#define _GNU_SOURCE 1

#include "config.h"

#ifdef HAVE_DLADDR
#include <dlfcn.h>
#endif

#include "nursery-binding-private.h"

#ifdef HAVE_DLADDR
typedef gpointer (*GjsCurrentFunc) (void);

/* Looked up once: dlsym() walks every loaded object, too slow for a call
 * on each spawn. Python loaded after the first thread child is missed,
 * which only lets a GJS function through, as before. */
static GjsCurrentFunc
gjs_current_func (void)
{
  static GjsCurrentFunc func;
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      if (dlsym (RTLD_DEFAULT, "Py_IsInitialized") == NULL)
        func = (GjsCurrentFunc) dlsym (RTLD_DEFAULT, "gjs_context_get_current");
      g_once_init_leave (&done, 1);
    }
  return func;
}
#endif

gboolean
_nursery_callback_is_gjs (gpointer func)
{
#ifdef HAVE_DLADDR
  GjsCurrentFunc gjs_current = gjs_current_func ();
  Dl_info info;

  if (gjs_current == NULL || gjs_current () == NULL)
    return FALSE;
  return dladdr (func, &info) == 0;
#else
  return FALSE;
#endif
}
